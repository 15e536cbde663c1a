"""The pair matcher (models_app.ml.matcher) on real pairs: `python -m bench.matcher_eval`.

Not an S10 target: the quality figures of issue 11's matcher. Datasets, from ../shared/data when present:
- WDC computers (Ditto's title-only preprocessing): trained on `train_small`, then on `train_medium`, tested
  on `test`. The file lists some pairs in a training split and in `test` (either way round): they are
  dropped from training. `valid_small` is not used: the matcher holds out its own labels for its threshold.
- PriceRunner `pairs_sample.csv` (hard negatives of the same category): a seeded, stratified 80/20 split.

For each dataset and classifier: F1, precision and recall on the test set at the threshold the matcher
chose on its own holdout, average precision, training and scoring times; and a learning curve of F1
with 100/250/500/1000 labels drawn in random order from the training split (mean of MATCHER_SEEDS
seeds). Prints a markdown table and writes bench/results/matcher.md. Options (environment):
MATCHER_CLASSIFIERS (default "hgb,logreg"), MATCHER_SEEDS (3), MATCHER_DATA (../shared/data).
"""

from __future__ import annotations

import csv
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.common import RESULTS_DIR, ROOT, env_int, log
from models_app.ml import pair_features
from models_app.ml.config import MatcherConfig
from models_app.ml.matcher import Matcher, train_matcher
from models_app.ml.metrics import match_metrics

SIZES = (100, 250, 500, 1000)
SEED_SPLIT = 0
FIGURES = ("f1", "precision", "recall", "average_precision", "threshold", "pairs_per_s")
Pairs = tuple[list[dict], list[dict], np.ndarray]


@dataclass
class Task:
    name: str
    train: Pairs
    test: Pairs
    note: str


def _pairs(rows: list[dict]) -> Pairs:
    left = [{"title": row["left_title"]} for row in rows]
    right = [{"title": row["right_title"]} for row in rows]
    return left, right, np.array([int(row["label"]) for row in rows], dtype=np.int64)


def _read(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [{key.strip(): value for key, value in row.items()} for row in csv.DictReader(handle)]


def wdc_tasks(path: Path) -> list[Task]:
    rows = _read(path)
    test = [row for row in rows if row["split"] == "test"]
    in_test = {key for row in test for key in _keys(row)}
    tasks = []
    for split in ("train_small", "train_medium"):
        train = [row for row in rows if row["split"] == split]
        kept = [row for row in train if not in_test & set(_keys(row))]
        offers = {title for row in kept for title in (row["left_title"], row["right_title"])}
        shared = sum(row["left_title"] in offers or row["right_title"] in offers for row in test)
        note = f"{len(train) - len(kept)} pairs also in test dropped, {shared} test pairs share an offer with training"
        tasks.append(Task(f"WDC computers {split.removeprefix('train_')}", _pairs(kept), _pairs(test), note))
    return tasks


def _keys(row: dict) -> tuple[tuple[str, str], tuple[str, str]]:
    return (row["left_title"], row["right_title"]), (row["right_title"], row["left_title"])


def pricerunner_task(path: Path) -> Task:
    rows = _read(path)
    rng = np.random.default_rng(SEED_SPLIT)
    test_ids: set[int] = set()
    for label in ("0", "1"):
        members = [i for i, row in enumerate(rows) if row["label"] == label]
        test_ids.update(rng.permutation(members)[: round(len(members) * 0.2)].tolist())
    train = [row for i, row in enumerate(rows) if i not in test_ids]
    test = [row for i, row in enumerate(rows) if i in test_ids]
    return Task("PriceRunner pairs", _pairs(train), _pairs(test), f"seeded stratified 80/20 (seed {SEED_SPLIT})")


def _subset(pairs: Pairs, ids: np.ndarray) -> Pairs:
    left, right, labels = pairs
    return [left[i] for i in ids], [right[i] for i in ids], labels[ids]


def score_test_set(matcher: Matcher, test: Pairs) -> dict:
    """F1 and friends on the test pairs at the matcher's own threshold, and pairs scored per second (cold caches)."""
    left, right, labels = test
    pair_features._parsed.cache_clear()  # scoring new pairs parses every text once
    started = time.perf_counter()
    probabilities = matcher.predict_proba(left, right)
    seconds = time.perf_counter() - started
    figures = match_metrics(y_true=labels, probabilities=probabilities, threshold=matcher.threshold)
    return {**figures, "pairs_per_s": len(labels) / seconds}


def run_task(task: Task, classifier: str, seeds: int) -> dict:
    config = MatcherConfig(fields=("title",), classifier=classifier)
    left, right, labels = task.train
    # What a dataset's training reads besides its labels (`catalog_records`): every offer of the file.
    catalog = [*left, *right, *task.test[0], *task.test[1]]
    # On the whole training split the seed moves only the holdout (so the threshold) and the trees.
    runs = [
        train_matcher(left=left, right=right, labels=labels, config=config, seed=seed, catalog=catalog)
        for seed in range(seeds)
    ]
    scored = [score_test_set(run.matcher, task.test) for run in runs]
    full = {key: float(np.mean([s[key] for s in scored])) for key in FIGURES}
    full["f1_sd"] = float(np.std([s["f1"] for s in scored]))
    train_s = float(np.mean([run.timings["total_s"] for run in runs]))
    log(f"{task.name} / {classifier}: {len(labels)} labels, test F1 {full['f1']:.3f}, {train_s:.1f} s a training")
    curve = {}
    for size in SIZES:
        if size > len(labels):
            continue
        scores = []
        for seed in range(seeds):
            ids = np.random.default_rng(seed).permutation(len(labels))[:size]
            sub = _subset(task.train, ids)
            if sub[2].min() == sub[2].max():
                continue
            matcher = train_matcher(
                left=sub[0], right=sub[1], labels=sub[2], config=config, seed=seed, catalog=catalog
            ).matcher
            scores.append(score_test_set(matcher, task.test)["f1"])
        curve[size] = float(np.mean(scores))
        log(f"  {size} labels: F1 {curve[size]:.3f} (mean of {len(scores)})")
    return {
        "task": task.name,
        "classifier": classifier,
        "train": len(labels),
        "test": len(task.test[2]),
        "note": task.note,
        "full": full,
        "holdout_f1": float(np.mean([run.metrics["f1"] for run in runs])),
        "train_s": train_s,
        "curve": curve,
    }


def markdown(results: list[dict], seeds: int) -> str:
    lines = [
        "# Pair matcher on real pairs (`python -m bench.matcher_eval`)",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} CPUs. Title only. "
        f"Every figure is a mean over {seeds} seeds (± the standard deviation). "
        "F1 / P / R on the test set at the threshold the matcher chose on its own 20% holdout; AP = average "
        "precision (threshold-free); train s = `train_matcher` (holdout model, then refit on all labels); "
        "scoring = pairs per second of `Matcher.predict_proba` on the test pairs, text caches cold.",
        "",
        "| dataset | classifier | train pairs | test pairs | F1 | P | R | AP | threshold | holdout F1 | train s "
        "| scoring pairs/s |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        full = r["full"]
        lines.append(
            f"| {r['task']} | {r['classifier']} | {r['train']:,} | {r['test']:,} "
            f"| {100 * full['f1']:.1f} ± {100 * full['f1_sd']:.1f} "
            f"| {100 * full['precision']:.1f} | {100 * full['recall']:.1f} | {100 * full['average_precision']:.1f} "
            f"| {full['threshold']:.2f} | {_percent(r['holdout_f1'])} | {r['train_s']:.1f} "
            f"| {full['pairs_per_s']:,.0f} |"
        )
    lines += [
        "",
        f"Learning curve: test F1 after n labels drawn in random order from the training pairs, mean of {seeds} seeds.",
        "",
        "| dataset | classifier | " + " | ".join(str(size) for size in SIZES) + " | all |",
        "| --- | --- | " + " | ".join("---:" for _ in SIZES) + " | ---: |",
    ]
    for r in results:
        cells = [_percent(r["curve"].get(size)) for size in SIZES]
        lines.append(f"| {r['task']} | {r['classifier']} | " + " | ".join(cells) + f" | {100 * r['full']['f1']:.1f} |")
    lines += [
        "",
        "Notes: " + "; ".join(sorted({f"{r['task']}: {r['note']}" for r in results})) + ".",
        "",
        "For scale: the published F1 of Ditto (a fine-tuned BERT) on WDC computers small is 80.8, on the same test "
        "pairs. Many test offers also stand in training pairs (the notes count them; so they do for every system), "
        "and computer titles carry part numbers, which the model-number features read directly.",
    ]
    return "\n".join(lines) + "\n"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def main() -> int:
    data = Path(os.environ.get("MATCHER_DATA") or ROOT.parent / "shared" / "data")
    classifiers = [c for c in os.environ.get("MATCHER_CLASSIFIERS", "hgb,logreg").split(",") if c]
    seeds = env_int("MATCHER_SEEDS", 3)
    tasks = []
    if (data / "wdc-products" / "computers.csv").exists():
        tasks += wdc_tasks(data / "wdc-products" / "computers.csv")
    if (data / "pricerunner" / "pairs_sample.csv").exists():
        tasks.append(pricerunner_task(data / "pricerunner" / "pairs_sample.csv"))
    if not tasks:
        print(f"matcher_eval: no WDC computers or PriceRunner pairs under {data}", file=sys.stderr)
        return 1
    results = [run_task(task, classifier, seeds) for task in tasks for classifier in classifiers]
    report = markdown(results, seeds)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "matcher.md").write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
