"""The pure parts of the side-by-side bench: Label Studio's project from the catalog, and the results table.

No Django, no network: what tests/bench/test_peer.py checks.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path
from xml.sax.saxutils import quoteattr

# The figures of the table: (key in a scale's results, label, higher is better).
FIGURES = [
    ("import_rows_per_s", "import, rows/s", True),
    ("import_rows_per_s_with_startup", "import with Shelfmark's process start-up, rows/s", True),
    ("pairs_per_s", "next + submit, pairs/s", True),
    ("pair_p50_ms", "next + submit, pair p50 ms", False),
    ("pair_p95_ms", "next + submit, pair p95 ms", False),
    ("export_rows_per_s", "export, rows/s", True),
]


def label_config(categories: Iterable[str]) -> str:
    """A Label Studio labeling config: the product title shown, one choice among the catalog's categories."""
    choices = "".join(f"<Choice value={quoteattr(name)}/>" for name in sorted(set(categories)))
    return (
        '<View><Text name="title" value="$title"/>'
        f'<Choices name="category" toName="title" choice="single">{choices}</Choices></View>'
    )


def catalog_tasks(path: Path) -> Iterator[dict]:
    """Label Studio tasks ({"data": row}) of the bench catalog's rows: every column of the CSV, as text."""
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            yield {"data": dict(row)}


def choice_result(category: str) -> list[dict]:
    """The `result` of a Label Studio annotation choosing `category` in label_config's Choices."""
    return [{"from_name": "category", "to_name": "title", "type": "choices", "value": {"choices": [category]}}]


def ratio(figure: str, shelfmark: float | None, peer: float | None) -> float | None:
    """How many times better Shelfmark is: Shelfmark / Label Studio for a rate, the inverse for a latency."""
    if not shelfmark or not peer:
        return None
    higher_is_better = next(better for key, _, better in FIGURES if key == figure)
    return round(shelfmark / peer if higher_is_better else peer / shelfmark, 2)


def _cell(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def side_by_side(scales: dict[str, dict]) -> list[str]:
    """A Markdown table: a row per figure and scale, Shelfmark, Label Studio and how many times Shelfmark is ahead
    (above 1: ahead, below 1: behind). `scales`: {"10000": {"shelfmark": {...}, "label_studio": {...}}}."""
    lines = ["| figure | products | Shelfmark | Label Studio | Shelfmark ahead by |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for key, name, _ in FIGURES:
        for scale, sides in scales.items():
            ours, theirs = sides["shelfmark"].get(key), sides["label_studio"].get(key)
            times = ratio(key, ours, theirs)
            lines.append(f"| {name} | {int(scale):,} | {_cell(ours)} | {_cell(theirs)} | "
                         f"{'n/a' if times is None else f'{times:,.1f}x'} |")
    return lines


def growth(scales: dict[str, dict], figure: str = "pair_p95_ms") -> dict[str, float | None]:
    """Each side's `figure` at the largest scale over the smallest (latency growing with the catalog)."""
    ordered = sorted(scales, key=int)
    if len(ordered) < 2:
        return {}
    small, large = scales[ordered[0]], scales[ordered[-1]]
    result = {}
    for side in ("shelfmark", "label_studio"):
        low, high = small[side].get(figure), large[side].get(figure)
        result[side] = round(high / low, 2) if low and high else None
    return result
