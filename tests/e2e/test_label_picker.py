"""The category picker in headless Chromium: the taxonomy tree by keyboard and by mouse, the typo-tolerant search,
and the search's time on a taxonomy the size and shape of Google's (5,595 nodes)."""

import os
import platform
import random
import time
from datetime import UTC, datetime
from pathlib import Path
from statistics import median

import pytest
from django.db import connection
from django.test import Client

from datasets.importers import TaxonomyRow
from datasets.models import Dataset
from datasets.services.taxonomy import taxonomy_upsert
from labeling.models import Annotation
from tests.conftest import log_in
from tests.e2e.test_annotate_keyboard import wait_for_task
from tests.factories import DatasetFactory, TaskFactory, member

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results" / "label_search.md"
SHOP = [
    "Apparel > Shoes > Sneakers",
    "Apparel > Shoes > Boots",
    "Apparel > Socks",
    "Electronics > Televisions",
    "Home > Lamps",
    "Home > Rugs",
    "Toys > Puzzles",
    "Toys > Dolls",
    "Books > Comics",
    "Books > Fiction",
]
# Nodes per level of the Google Product Taxonomy (2021-09-21): 5,595 in all, 21 roots, 7 levels at most.
GOOGLE_LEVELS = (21, 192, 1349, 2203, 1385, 397, 48)
SYLLABLES = (
    "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "be", "da", "fe", "gu", "ho", "ja",
    "ke", "li", "mo", "na", "pe", "ra", "si", "to", "ul", "ve", "wo", "xi", "yu", "ze",
)


def shop(paths=SHOP) -> Dataset:
    dataset = DatasetFactory(name="Picker shop")
    taxonomy_upsert(dataset=dataset, rows=[TaxonomyRow(i, "", tuple(p.split(" > "))) for i, p in enumerate(paths, 1)])
    TaskFactory.create_batch(3, dataset=dataset)
    return dataset


def google_shaped_paths(seed: int = 7) -> list[str]:
    """5,595 category paths with the Google taxonomy's level sizes and 1-3 word names, one of them a Sneakers."""
    rng = random.Random(seed)

    def word() -> str:
        return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).title()

    levels: list[list[str]] = [[]]
    for size in GOOGLE_LEVELS:
        parents, level = levels[-1], dict[str, None]()
        while len(level) < size:
            name = " ".join(word() for _ in range(rng.randint(1, 3)))
            level[f"{rng.choice(parents)} > {name}" if parents else name] = None
        levels.append(list(level))
    paths = [path for level in levels for path in level]
    paths.append(f"{levels[3][0]} > Sneakers")
    return paths[: sum(GOOGLE_LEVELS) - 1] + paths[-1:]


def open_task(page, dataset: Dataset, username: str = "ann") -> str:
    member(dataset, username)
    log_in(page, username)
    page.goto(f"/datasets/{dataset.pk}/annotate/")
    return wait_for_task(page)


def wait_focus(page, path: str) -> None:
    page.wait_for_function("path => document.activeElement.getAttribute('data-label-path') === path", arg=path)


def focused(page) -> str:
    return page.evaluate("document.activeElement.getAttribute('data-label-path') || document.activeElement.id")


@pytest.mark.browser
def test_the_tree_by_keyboard_opens_moves_types_ahead_and_picks_a_leaf(page, transactional_db):
    dataset = shop()
    first = open_task(page, dataset)
    page.keyboard.press("t")
    assert focused(page) == "Apparel"
    # Typed at once: open Apparel, into its first child (once loaded), open Shoes, down to its first child.
    for key in ("ArrowRight", "ArrowRight", "ArrowRight", "ArrowDown"):
        page.keyboard.press(key)
    wait_focus(page, "Apparel > Shoes > Boots")
    page.keyboard.press("s")  # type-ahead: the next node shown starting with "s"; not Skip
    assert focused(page) == "Apparel > Shoes > Sneakers"
    page.keyboard.press("f")  # typed in the tree ("sf" matches nothing): it never flags
    assert page.is_hidden("#flag-state")
    page.keyboard.press("ArrowLeft")  # a leaf: to its parent
    assert focused(page) == "Apparel > Shoes"
    page.keyboard.press("ArrowLeft")  # close Shoes
    assert page.get_attribute("[data-label-path='Apparel > Shoes']", "aria-expanded") == "false"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("End")
    assert focused(page) == "Toys"
    page.keyboard.press("Home")
    page.keyboard.type("ho")  # two letters refine the jump
    assert focused(page) == "Home"
    for _ in range(4):  # Electronics, Books, Socks, then the Sneakers shown under the open Shoes
        page.keyboard.press("ArrowUp")
    assert focused(page) == "Apparel > Shoes > Sneakers"
    page.keyboard.press("Enter")  # picks the leaf and hands focus back to the task
    page.wait_for_selector("#selected-label[data-label-id]:not(.none)")
    assert page.inner_text("#selected-label-path") == "Apparel > Shoes > Sneakers"
    assert focused(page) == "task-panel"
    page.keyboard.press("Enter")  # the page's Enter again: submit
    wait_for_task(page, not_task=first)
    assert list(Annotation.objects.values_list("label__path", flat=True)) == ["Apparel > Shoes > Sneakers"]
    page.keyboard.press("t")  # the next task's tree has the same branch open, its leaf the tab stop
    assert focused(page) == "Apparel > Shoes > Sneakers"


@pytest.mark.browser
def test_the_tree_by_mouse_opens_a_node_and_picks_a_leaf(page, transactional_db):
    dataset = shop()
    first = open_task(page, dataset)
    page.click("[data-label-path='Home'] > .tree-row .tree-name")
    page.click("[data-label-path='Home > Lamps'] .tree-name")
    assert page.inner_text("#selected-label-path") == "Home > Lamps"
    assert page.get_attribute("[data-label-path='Home > Lamps']", "aria-selected") == "true"
    page.click("[data-label-path='Home'] > .tree-row .tree-twisty")  # the arrow closes it again
    assert page.is_hidden("[data-label-path='Home > Lamps']")
    page.click("#submit-button")
    wait_for_task(page, not_task=first)
    assert list(Annotation.objects.values_list("label__path", flat=True)) == ["Home > Lamps"]


@pytest.mark.browser
def test_a_typo_in_the_search_still_finds_and_picks_the_leaf(page, transactional_db):
    dataset = shop()
    open_task(page, dataset)
    page.keyboard.press("/")
    page.keyboard.type("sneeker")
    page.wait_for_selector(".label-option.highlighted[data-label-path='Apparel > Shoes > Sneakers']")
    page.keyboard.press("Enter")
    assert page.inner_text("#selected-label-path") == "Apparel > Shoes > Sneakers"


@pytest.mark.browser
def test_a_small_label_set_is_on_keys_1_to_9_before_any_answer(page, transactional_db):
    dataset = shop(["Toys", "Books", "Games"])
    first = open_task(page, dataset)
    assert page.get_attribute("#shortcut-3", "data-label-path") == "Toys"
    page.keyboard.press("3")
    page.keyboard.press("3")
    wait_for_task(page, not_task=first)
    assert list(Annotation.objects.values_list("label__path", flat=True)) == ["Toys"]


@pytest.mark.browser
def test_a_search_in_a_taxonomy_of_google_size_is_timed(page, transactional_db):
    """The search's round trip on 5,595 nodes (generated with the Google taxonomy's level sizes, so no file is
    needed): printed, and written to bench/results when RECORD_BENCH_RESULTS=1, only loosely asserted (the machine
    is shared). The first search builds the dataset's index; the next ones reuse it."""
    dataset = shop(google_shaped_paths())
    assert dataset.labels.count() == 5595
    open_task(page, dataset)
    client = Client()
    client.force_login(dataset.memberships.get().user)
    url = f"/datasets/{dataset.pk}/labels/search/?q="
    fetch = "async (url) => { const t = performance.now(); const r = await fetch(url); await r.text(); " \
            "return performance.now() - t; }"
    cold = page.evaluate(fetch, url + "sneeker")
    queries = ("sneeker", "kalo mine", "sneakers", "ru", "")
    warm = {q: median(page.evaluate(fetch, url + q) for _ in range(5)) for q in queries}
    server = {q: median(_timed(client.get, url + q) for _ in range(5)) for q in queries}

    page.keyboard.press("/")
    start = time.perf_counter()
    page.keyboard.type("sneeker")
    page.wait_for_selector(".label-option.highlighted[data-label-path$=' > Sneakers']")
    typed = (time.perf_counter() - start) * 1000

    page.keyboard.press("Escape")
    page.keyboard.press("t")
    start = time.perf_counter()
    page.keyboard.press("ArrowRight")
    page.wait_for_selector("#label-tree [aria-expanded='true'] [role=group] [data-tree-node]")
    opened = (time.perf_counter() - start) * 1000

    lines = [
        "# Label search on a taxonomy of Google's size (`tests/e2e/test_label_picker.py`)",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, headless Chromium against Django's "
        f"live test server on {connection.vendor}: 5,595 generated nodes with the Google Product Taxonomy's level "
        "sizes. Times are the browser's fetch of the search partial (request, rapidfuzz ranking, rendering 30 "
        "results), median of 5 once the index is built; server: the same request through Django's test client "
        "(the view's own cost, without the live server's HTTP).",
        "",
        "| search | browser ms | server ms |",
        "| --- | ---: | ---: |",
        f"| first search (builds the index) | {cold:.1f} | |",
        *(f"| {q!r} | {ms:.1f} | {server[q]:.1f} |" for q, ms in warm.items()),
        f"| typing 'sneeker' to its result highlighted (7 keys, 150 ms debounce) | {typed:.0f} |",
        f"| opening a root of the tree (its children loaded) | {opened:.0f} |",
        "",
    ]
    if os.environ.get("RECORD_BENCH_RESULTS") == "1":
        RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))
    assert max(warm.values()) < 1000


def _timed(call, *args) -> float:
    start = time.perf_counter()
    call(*args)
    return (time.perf_counter() - start) * 1000
