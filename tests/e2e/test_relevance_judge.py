"""A judge grades search results with the keyboard in headless Chromium, one at a time and a query's list at once;
the answers are stored, undo reopens them, and both modes are timed on the same 3 queries x 10 products."""

import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from statistics import mean

import pytest
from django.db import connection

from labeling.models import Annotation, AnnotationStatus, EventAction, LabelEvent
from tests.conftest import log_in
from tests.e2e.test_annotate_keyboard import wait_for_task
from tests.factories import member
from tests.labeling.kinds.relevance.judging import search_dataset

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results" / "relevance_judge_modes.md"
KEYS = "1234"  # the grade keys, cycled: E, S, C, I
CODES = dict(zip(KEYS, "ESCI", strict=True))


def wait_for_query(page, *, not_query: str | None = None) -> str:
    """Wait until a fresh query panel is ready for keys; return its query id ("" when none is left)."""
    ready = "#query-panel[data-ready='true']"
    page.wait_for_selector(ready if not_query is None else f"{ready}:not([data-query-id='{not_query}'])")
    return page.get_attribute("#query-panel", "data-query-id")


def focused_task(page) -> str:
    return page.evaluate("document.activeElement.getAttribute('data-task-id')")


@pytest.mark.browser
def test_the_single_mode_grades_with_one_key_each_and_undo_reopens_the_last(page, transactional_db):
    dataset = search_dataset(name="Single", queries=1)
    judge = member(dataset, "judge")
    log_in(page, "judge")
    page.goto(f"/datasets/{dataset.pk}/annotate/")
    tasks = [wait_for_task(page)]
    for key in "123":
        page.keyboard.press(key)
        tasks.append(wait_for_task(page, not_task=tasks[-1]))
    assert page.inner_text("#count-submitted").strip() == "3"

    page.keyboard.press("u")
    assert wait_for_task(page, not_task=tasks[3]) == tasks[2]
    page.keyboard.press("4")
    wait_for_task(page, not_task=tasks[2])

    answers = {str(a.task_id): a.label.code for a in Annotation.objects.filter(user=judge).select_related("label")}
    assert answers == {tasks[0]: "E", tasks[1]: "S", tasks[2]: "I"}
    assert LabelEvent.objects.filter(user=judge, action=EventAction.UNDO).count() == 1
    assert page.is_visible("#mode-list")


@pytest.mark.browser
def test_the_list_mode_grades_by_arrows_and_digits_confirms_whole_and_undoes_whole(page, transactional_db):
    dataset = search_dataset(name="List", queries=2)
    judge = member(dataset, "judge")
    log_in(page, "judge")
    page.goto(f"/datasets/{dataset.pk}/annotate/")
    page.click("#mode-list")
    first = wait_for_query(page)
    items = page.eval_on_selector_all("#judge-grid .judge-item", "items => items.map(i => i.dataset.taskId)")
    assert len(items) == 10 and focused_task(page) == items[0]

    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert focused_task(page) == items[2]
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("2")  # grades the second product, then moves on to the next ungraded
    assert focused_task(page) == items[2]
    page.keyboard.press("Enter")  # refused: the focus goes back to the first ungraded
    assert "9 of 10 products are not graded yet" in page.inner_text("#list-hint")
    assert focused_task(page) == items[0]
    for _ in range(8):  # the first, then the third to the ninth
        page.keyboard.press("1")
    assert focused_task(page) == items[9]
    page.keyboard.press("f")  # the last one flagged, ungraded
    assert page.inner_text("#graded-count") == "10"
    assert not Annotation.objects.filter(user=judge).exists()
    page.keyboard.press("Enter")
    second = wait_for_query(page, not_query=first)
    assert second and page.inner_text("#count-submitted").strip() == "10"

    answers = {str(a.task_id): a for a in Annotation.objects.filter(user=judge).select_related("label")}
    assert answers[items[1]].label.code == "S" and answers[items[9]].flagged and answers[items[9]].label is None
    assert {answers[task].label.code for task in items[0:1] + items[2:9]} == {"E"}
    assert all(a.active_seconds is not None for a in answers.values())

    page.keyboard.press("u")
    assert wait_for_query(page, not_query=second) == first
    assert page.inner_text("#count-submitted").strip() == "0"
    assert not Annotation.objects.filter(user=judge).exists()

    page.keyboard.press("s")
    assert wait_for_query(page, not_query=first) == second
    assert Annotation.objects.filter(user=judge, status=AnnotationStatus.SKIPPED).count() == 10


def judge_single(page, dataset_id: int, judgments: int) -> float:
    page.goto(f"/datasets/{dataset_id}/annotate/")
    task = wait_for_task(page)
    started = time.perf_counter()
    for n in range(judgments):
        page.keyboard.press(KEYS[n % 4])
        task = wait_for_task(page, not_task=task)
    return time.perf_counter() - started


def judge_list(page, dataset_id: int, queries: int) -> float:
    page.goto(f"/datasets/{dataset_id}/annotate/list/")
    query = wait_for_query(page)
    started = time.perf_counter()
    for _ in range(queries):
        for n in range(page.locator("#judge-grid .judge-item").count()):
            page.keyboard.press(KEYS[n % 4])
        page.keyboard.press("Enter")
        query = wait_for_query(page, not_query=query)
    return time.perf_counter() - started


@pytest.mark.browser
def test_both_modes_are_timed_on_the_same_three_queries_of_ten_products(page, transactional_db):
    """Seconds per judgment by keyboard in each mode: printed, and written to bench/results when
    RECORD_BENCH_RESULTS=1 (a test run leaves the checkout as it was), never asserted (the machine is shared). A
    script presses the keys, so the figures are the page's own cost per judgment (requests, swaps, rendering),
    the floor under a person's reading time."""
    modes = {}
    for mode, judge in (("single", judge_single), ("list", judge_list)):
        dataset = search_dataset(name=f"Timed {mode}", queries=3)
        user = member(dataset, f"judge-{mode}")
        page.context.clear_cookies()
        log_in(page, user.username)
        seconds = judge(page, dataset.pk, 30 if mode == "single" else 3)
        answers = list(Annotation.objects.filter(user=user).select_related("label", "task__product"))
        assert len(answers) == 30
        modes[mode] = {"wall": seconds / 30, "active": mean(a.active_seconds for a in answers)}

    lines = [
        "# Relevance judging: single mode against list mode (`tests/e2e/test_relevance_judge.py`)",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, headless Chromium against Django's "
        f"live test server on {connection.vendor}. The same 3 queries x 10 products in each mode, "
        "judged by a script pressing keys: single mode one key per product (grade and submit at once, then the next "
        "product), list mode one digit per product and Enter per query. The figures are the page's own cost per "
        "judgment (round trips, swaps, rendering), the floor under a person's reading time, not a person's speed.",
        "",
        "| mode | judgments | wall s per judgment | active s per judgment (stored) | requests |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| single | 30 | {modes['single']['wall']:.3f} | {modes['single']['active']:.3f} | 30 |",
        f"| list | 30 | {modes['list']['wall']:.3f} | {modes['list']['active']:.3f} | 3 |",
        "",
        f"List mode per judgment: {modes['list']['wall'] / modes['single']['wall']:.2f}x the single mode's wall time.",
        "",
    ]
    if os.environ.get("RECORD_BENCH_RESULTS") == "1":
        RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))
