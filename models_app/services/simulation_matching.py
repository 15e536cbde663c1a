"""Active-learning simulation on a matching dataset: the oracle answers pairs from a truth of labeled pairs.

The truth names pairs by their products' external ids, in either order (`left_id,right_id,label`, or the
pairs file itself; a file that names its offers by their fields alone gets the ids the import gave them,
the hash of those fields). Each truth pair is the dataset's task for that pair of products
(its products in id order). The held-out pairs are a seeded, stratified fraction of the pool, or the pairs of a
benchmark's split (`Task.attributes["split"]`, kept by the import); `pool_split` restricts the pool to one
split. At each checkpoint the real services train a matcher (training_request + model_version_train) and
its artifact is measured on the held-out pairs at its own threshold: precision, recall and F1.

The queue's strategies (margin, entropy, least confidence) all come down to closeness to the threshold
for a matcher's one probability (models_app.services.matching); random order is random order.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from config.errors import ApplicationError
from datasets.importers.files import ImportFormatError, RowError
from datasets.importers.pairs import PairRow, match_label, pair_key, parse_pairs
from datasets.importers.products import open_upload
from datasets.importers.values import normalize_column
from datasets.models import Dataset, Label, Product
from labeling.kinds.matching.kind import MATCH, NO_MATCH
from labeling.kinds.matching.tasks import pair_task_rows
from labeling.kinds.matching.training import Record, catalog_records, pair_records
from labeling.models import Task
from labeling.queue import random_key
from models_app.ml import load_matcher, score_pairs, train_matcher
from models_app.ml.metrics import best_f1_threshold, match_metrics
from models_app.services.matching import matcher_config
from models_app.services.simulation_oracle import OracleRun, heldout_split, oracle_run, run_report

PairTruth = dict[tuple[str, str], bool]  # pair_key(external id, external id) -> True for a match
FIGURES = ("precision", "recall", "f1", "threshold", "average_precision", "f1_at_half", "best_f1")
LEFT_IDS = ("left_id", "id_left", "left_product_id", "product_id_left", "ltable_id")
RIGHT_IDS = ("right_id", "id_right", "right_product_id", "product_id_right", "rtable_id")
LABELS = ("label", "is_match", "gold")
CHUNK = 5000


def pair_truth_read(
    path: Path | str,
    *,
    left_column: str | None = None,
    right_column: str | None = None,
    label_column: str | None = None,
) -> PairTruth:
    """The labeled pairs of a CSV, JSON Lines or JSON file, by the order-free pair of their external ids.

    Columns: the ones named, else the first of LEFT_IDS / RIGHT_IDS and LABELS present (case and separators
    ignored). A file with no id columns but `left_title`-style fields is read as the pairs import reads it,
    so its offers get the ids the import gave them. Unlabeled rows are skipped; a label that is not 1/0,
    match/no match or true/false, a missing id, and a pair labeled both ways are errors.
    """
    path = Path(path)
    with _opened(path) as handle:
        upload = _upload(handle, path)
        try:
            columns = upload.columns
            label = _column(path, columns, label_column, LABELS, "label")
            if label is None:
                raise ApplicationError(
                    f"{path}: no label column ({', '.join(LABELS)}); found {_shown(columns)}. "
                    "Name it with --label-column."
                )
            left = _column(path, columns, left_column, LEFT_IDS, "left id")
            right = _column(path, columns, right_column, RIGHT_IDS, "right id")
            if (left is None) != (right is None):
                raise ApplicationError(
                    f"{path}: found the {'left' if left else 'right'} id column {left or right!r} but not the other "
                    f"side's; found {_shown(columns)}. Name both with --left-column and --right-column."
                )
            if left is not None and right is not None:
                truth = _truth_by_ids(path, upload.reduced({"left": left, "right": right}, label), left, right)
            else:
                truth = None
        finally:
            upload.text.close()
    if truth is None:  # no ids: the offers are described, as in WDC's title-only pairs files
        truth = _truth_by_fields(path, label, columns)
    if not truth:
        raise ApplicationError(f"{path}: no labeled pair (every row's label is empty).")
    return truth


def _opened(path: Path):
    try:
        return path.open("rb")
    except OSError as error:
        raise ApplicationError(f"{path}: cannot be read ({error.strerror or error}).") from error


def _upload(handle, path: Path):
    try:
        return open_upload(handle, filename=path.name)
    except ImportFormatError as error:
        raise ApplicationError(f"{path}: {error}") from error


def _shown(columns: Sequence[str]) -> str:
    return "columns " + ", ".join(columns[:20]) + (", …" if len(columns) > 20 else "") if columns else "no columns"


def _column(path: Path, columns: list[str], given: str | None, defaults: tuple[str, ...], what: str) -> str | None:
    if given:
        found = next((c for c in columns if c == given), None) or next(
            (c for c in columns if normalize_column(c) == normalize_column(given)), None
        )
        if found is None:
            raise ApplicationError(f"{path}: no {what} column {given!r}; found {_shown(columns)}.")
        return found
    by_name = {normalize_column(c): c for c in reversed(columns)}
    return next((by_name[name] for name in defaults if name in by_name), None)


def _label(path: Path, line: int, raw: str) -> bool | None:
    try:
        return match_label(str(raw))  # the pairs importer's spellings: a truth file reads as a pairs file does
    except ValueError:
        message = f"{path}: line {line}: label {raw!r} is not 1/0, match/no match or true/false."
        raise ApplicationError(message) from None


def _truth_by_ids(path: Path, records: Iterable, left: str, right: str) -> PairTruth:
    truth: PairTruth = {}
    first: dict[tuple[str, str], int] = {}
    for item in records:
        if isinstance(item, RowError):
            raise ApplicationError(f"{path}: line {item.line}: {item.reason}.")
        line, values, _, raw_label, _ = item
        match = _label(path, line, raw_label)
        if match is None:
            continue  # an unlabeled pair is no truth
        a, b = str(values.get("left") or "").strip(), str(values.get("right") or "").strip()
        if not a or not b:
            raise ApplicationError(f"{path}: line {line}: a labeled pair needs both ids ({left!r} and {right!r}).")
        if a == b:
            raise ApplicationError(f"{path}: line {line}: {a!r} is on both sides; a product cannot match itself.")
        key = pair_key(a, b)
        if truth.get(key, match) != match:
            raise ApplicationError(
                f"{path}: line {line}: the pair {a!r} / {b!r} is labeled {_named(truth[key])} on line {first[key]} "
                f"and {_named(match)} here."
            )
        truth[key] = match
        first.setdefault(key, line)
    return truth


def _named(match: bool) -> str:
    return MATCH.name if match else NO_MATCH.name


def _truth_by_fields(path: Path, label: str, columns: list[str]) -> PairTruth:
    truth: PairTruth = {}
    with _opened(path) as handle:
        try:
            rows = parse_pairs(handle, filename=path.name, label_column=label)
            for item in rows:
                if isinstance(item, PairRow):
                    if item.label is not None:
                        truth[item.key] = item.label
                elif "invalid label" in item.reason:
                    raise ApplicationError(f"{path}: line {item.line}: {item.reason}.")
                # Other refused rows (a repeated pair, a side without a title) are refused by the import too.
        except ImportFormatError as error:
            raise ApplicationError(
                f"{path}: no id columns ({LEFT_IDS[0]}, {RIGHT_IDS[0]}, ...) and no pairs layout: {error}"
            ) from error
    return truth


@dataclass(frozen=True)
class _Pair:
    task: int
    key: tuple[str, str]
    match: bool
    split: str | None


def _truth_pairs(dataset: Dataset, truth: PairTruth) -> tuple[list[_Pair], int, int]:
    """The truth's pairs that are open, unlabeled, non-gold tasks of the dataset; and how many truth pairs
    name no task of it, and how many name one already answered (or gold, or complete)."""
    external = sorted({external_id for key in truth for external_id in key})
    product_of: dict[str, int] = {}
    for start in range(0, len(external), CHUNK):
        product_of.update(
            Product.objects.filter(dataset=dataset, external_id__in=external[start : start + CHUNK]).values_list(
                "external_id", "pk"
            )
        )
    by_ids = {
        tuple(sorted((product_of[a], product_of[b]))): (a, b) for a, b in truth if a in product_of and b in product_of
    }
    pairs, known = [], 0
    rows = pair_task_rows(
        dataset=dataset, pairs=by_ids, fields=["pk", "attributes", "is_complete", "is_gold", "annotation_count"]
    )
    for ids, (pk, attributes, complete, gold, answers) in rows:
        known += 1
        if complete or gold or answers:
            continue
        key = by_ids[ids]
        split = (attributes or {}).get("split")
        pairs.append(_Pair(pk, key, truth[key], None if split is None else str(split)))
    pairs.sort(key=lambda pair: pair.key)
    return pairs, len(truth) - known, known - len(pairs)


def _records(task_ids: list[int]) -> tuple[list[int], list[Record], list[Record]]:
    ids: list[int] = []
    left: list[Record] = []
    right: list[Record] = []
    ordered = sorted(task_ids)
    for start in range(0, len(ordered), CHUNK):
        chunk_ids, chunk_left, chunk_right = pair_records(task_ids=ordered[start : start + CHUNK])
        ids += chunk_ids
        left += chunk_left
        right += chunk_right
    return ids, left, right


@dataclass
class _HeldOut:
    left: list[Record]
    right: list[Record]
    labels: np.ndarray

    def measure(self, matcher) -> dict:
        """The matcher's figures on these pairs at its own threshold."""
        started = time.perf_counter()
        chunks = score_pairs(matcher=matcher, left=self.left, right=self.right)
        probabilities = np.concatenate([chunk.probabilities for chunk in chunks])
        figures = match_metrics(y_true=self.labels, probabilities=probabilities, threshold=matcher.threshold)
        # Diagnostics of the threshold the matcher chose on its own labels: F1 at 0.5 (its probabilities are
        # calibrated), and the best F1 any threshold reaches on these very pairs (not reachable without them).
        half = match_metrics(y_true=self.labels, probabilities=probabilities, threshold=0.5)["f1"]
        best = best_f1_threshold(y_true=self.labels, probabilities=probabilities)
        figures["f1_at_half"] = half
        figures["best_f1"] = match_metrics(y_true=self.labels, probabilities=probabilities, threshold=best)["f1"]
        return {name: figures[name] for name in FIGURES} | {"eval_s": time.perf_counter() - started}

    def measure_version(self, version) -> dict:
        version.artifact.open("rb")
        try:
            matcher = load_matcher(version.artifact.read())
        finally:
            version.artifact.close()
        return self.measure(matcher)


def _split_check(name: str | None, seen: Counter, what: str) -> None:
    if name is not None and name not in seen:
        found = ", ".join(f"{split!r} ({count})" for split, count in sorted(seen.items(), key=lambda i: str(i[0])))
        raise ApplicationError(
            f"No open pair of the truth has the {what} split {name!r}; their splits: {found or 'none'}."
        )


def simulate_matching(
    *,
    dataset: Dataset,
    truth: PairTruth,
    labels: int,
    batch: int,
    strategy: str,
    seed: int,
    heldout: float,
    random_share: float,
    schedule: list[int],
    progress: Callable[[dict], None] | None,
    heldout_split_name: str | None = None,
    pool_split: str | None = None,
    compare_full: bool = False,
) -> dict:
    """Run the oracle on the dataset's pairs to `labels` labels and return the report (see the module docstring).

    `compare_full` also trains the same matcher (the dataset's settings, the run's seed) on every pair of the
    pool and measures it on the same held-out pairs: what labeling everything would reach.
    """
    if heldout_split_name is not None and heldout_split_name == pool_split:
        raise ApplicationError("The held-out split and the pool split must differ.")
    pairs, unknown, answered = _truth_pairs(dataset, truth)
    if not pairs:
        example = next(iter(truth))
        raise ApplicationError(
            f"None of the truth's {len(truth)} pairs is an open, unlabeled pair of {dataset.name!r} "
            f"({unknown} name no pair of it, e.g. {example[0]!r} / {example[1]!r}; {answered} are answered already)."
        )
    splits = Counter(pair.split for pair in pairs)
    _split_check(pool_split, splits, "pool")
    _split_check(heldout_split_name, splits, "held-out")
    candidates = [pair for pair in pairs if pool_split is None or pair.split == pool_split]
    if heldout_split_name is not None:
        held = [pair for pair in pairs if pair.split == heldout_split_name]
    else:
        keys = heldout_split({p.key: str(int(p.match)) for p in candidates}, fraction=heldout, seed=seed)
        held = [pair for pair in candidates if pair.key in keys]
    held_tasks = {pair.task for pair in held}
    pool = [pair for pair in candidates if pair.task not in held_tasks]
    pool_matches, held_matches = sum(p.match for p in pool), sum(p.match for p in held)
    if len(pool) < 2 or not pool_matches or pool_matches == len(pool):
        raise ApplicationError(
            f"The pool holds {len(pool)} pairs, {pool_matches} of them matches: a matcher needs both answers."
        )
    if not held_matches:
        raise ApplicationError(f"The {len(held)} held-out pairs hold no match: precision and recall need some.")

    answer = {
        True: Label.objects.get(dataset=dataset, code=MATCH.code),
        False: Label.objects.get(dataset=dataset, code=NO_MATCH.code),
    }
    match_of = {pair.task: pair.match for pair in [*pool, *held]}
    _, held_left, held_right = _records(sorted(held_tasks))
    held_ids = sorted(held_tasks)
    measured = _HeldOut(held_left, held_right, np.array([match_of[pk] for pk in held_ids], dtype=np.int64))
    pool_tasks = {pair.task for pair in pool}
    excluded = [
        pk
        for pk in Task.objects.filter(dataset=dataset, is_complete=False)
        .values_list("pk", flat=True)
        .iterator(chunk_size=CHUNK)
        if pk not in pool_tasks
    ]

    run = oracle_run(
        OracleRun(
            pool={pair.task: answer[pair.match] for pair in pool},
            excluded=excluded,
            # Keyed by the external ids, so the order is a seed's whatever ids the import gave the products.
            random_keys={
                pair.task: random_key(seed=seed, external_id=f"pair:{pair.key[0]}:{pair.key[1]}") for pair in pool
            },
            measure=measured.measure_version,
            figures=FIGURES,
        ),
        dataset=dataset,
        labels=labels,
        batch=batch,
        strategy=strategy,
        seed=seed,
        random_share=random_share,
        schedule=schedule,
        progress=progress,
    )
    report = run_report(
        run,
        heldout={"split": heldout_split_name} if heldout_split_name else {"fraction": heldout},
        pool_split=pool_split,
        heldout_size=len(held),
        heldout_matches=held_matches,
        pool_size=len(pool),
        pool_matches=pool_matches,
        truth_pairs=len(truth),
        truth_not_in_dataset=unknown,
        truth_answered_already=answered,
        excluded_other=len(excluded) - len(held_tasks),
    )
    if compare_full:
        report["full_pool"] = _full_pool(dataset, sorted(pool_tasks), match_of, measured, seed)
    return report


def _full_pool(dataset: Dataset, task_ids: list[int], match_of: dict[int, bool], held: _HeldOut, seed: int) -> dict:
    """The matcher the dataset's run would train, fitted on every pair of the pool, on the held-out pairs."""
    started = time.perf_counter()
    ids, left, right = _records(task_ids)
    result = train_matcher(
        left=left,
        right=right,
        labels=[int(match_of[pk]) for pk in ids],
        config=matcher_config(dataset.model_config),
        seed=seed,
        catalog=catalog_records(dataset=dataset),
    )
    trained = time.perf_counter()
    figures = held.measure(result.matcher)
    return {"labels": len(ids), **{name: figures[name] for name in FIGURES}, "train_s": round(trained - started, 2)}
