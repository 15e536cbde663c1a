"""Active-learning simulation on a relevance dataset: the oracle grades (query, product) pairs from known grades.

The truth is a judgments file (`query_id`, `product_id`, `grade` as the dataset's scale spells it, read as
the judgments import reads it), naming queries and products by their external ids. The truth's pairs that are
open, unanswered tasks make the pool, split by query: a seeded fraction of those queries is held out whole
(their tasks kept out of the queue), so the learning curve measures queries no training saw. At each
checkpoint the real services train a ranker (training_request + model_version_train, which rescores the open
pairs and reorders the queue), and its artifact is measured on the held-out queries: nDCG@10 of BM25's
results as the candidate step kept them (to its depth) and of the ranker reranking them, against every
truth grade of the query (a result the truth does not grade counts as gain 0, as TREC counts it), and the
accuracy of its likeliest grade on the held-out tasks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from config.errors import ApplicationError
from datasets.importers.files import ImportFormatError, RowError
from datasets.importers.judgments import parse_judgments
from datasets.models import Dataset, Label, Product
from labeling.kinds.relevance.grades import GradeScale, scale_get
from labeling.kinds.relevance.training import PairInputs, bm25_results, pair_inputs
from labeling.models import Task
from labeling.queue import random_key
from models_app.ml import load_ranker
from models_app.ml.relevance import NO_RANK, Ranker, query_holdout_split
from models_app.services.relevance import featurize, rankers_ndcg
from models_app.services.simulation_oracle import OracleRun, oracle_run, run_report

GradeTruth = dict[tuple[str, str], str]  # (query external id, product external id) -> grade code
FIGURES = ("ndcg_at_10", "bm25_ndcg_at_10", "accuracy")
CHUNK = 5000


def grade_truth_read(path: Path | str, *, scale: GradeScale) -> GradeTruth:
    """The judged pairs of a judgments file (CSV, JSON Lines or JSON), their grades read on `scale`.

    A pair judged twice with different grades (by several annotators) takes none: the truth must be one grade.
    """
    path = Path(path)
    truth: GradeTruth = {}
    conflicting: set[tuple[str, str]] = set()
    try:
        with path.open("rb") as handle:
            for row in parse_judgments(handle, filename=path.name):
                if isinstance(row, RowError):
                    raise ApplicationError(f"{path}: line {row.line}: {row.reason}.")
                try:
                    grade = scale.parse(row.grade).code
                except ApplicationError as error:
                    raise ApplicationError(f"{path}: line {row.line}: {error.message}") from error
                key = (row.query_id, row.product_id)
                if truth.setdefault(key, grade) != grade:
                    conflicting.add(key)
    except ImportFormatError as error:
        raise ApplicationError(f"{path}: {error}") from error
    except OSError as error:
        raise ApplicationError(f"{path}: cannot be read ({error.strerror or error}).") from error
    if conflicting:
        example = next(iter(sorted(conflicting)))
        raise ApplicationError(
            f"{path}: {len(conflicting)} pairs have two grades, e.g. query {example[0]!r} and product {example[1]!r}."
        )
    if not truth:
        raise ApplicationError(f"{path}: no judged pair.")
    return truth


@dataclass
class _HeldOut:
    """The held-out queries' pairs: BM25's results and the held-out tasks, with the inputs a ranker reads."""

    dataset: Dataset
    query_ids: np.ndarray
    product_ids: np.ndarray
    ranks: np.ndarray  # BM25's rank, NO_RANK where it did not return the pair
    judgments: dict[int, dict[int, float]]  # query -> product -> gain, every truth grade of the query
    task_at: np.ndarray  # the positions of the held-out tasks among the pairs
    task_grades: list[str]
    inputs: PairInputs = field(init=False)

    def measure(self, version) -> dict:
        started = time.perf_counter()
        version.artifact.open("rb")
        try:
            ranker: Ranker = load_ranker(version.artifact.read())
        finally:
            version.artifact.close()
        rows = featurize(ranker.featurizer, self.inputs)
        figures = rankers_ndcg(
            query_ids=self.query_ids, product_ids=self.product_ids, expected=ranker.model.expected_gain(rows),
            ranks=self.ranks, judgments=self.judgments,
        )
        predicted = ranker.model.predict(rows[self.task_at])
        accuracy = float(np.mean([a == b for a, b in zip(predicted, self.task_grades, strict=True)]))
        return {
            "ndcg_at_10": figures["ndcg_at_10"], "bm25_ndcg_at_10": figures["bm25_ndcg_at_10"],
            "accuracy": round(accuracy, 4), "eval_s": time.perf_counter() - started,
        }

    def __post_init__(self) -> None:
        # The database's part read once: every checkpoint's ranker featurizes the same pairs.
        self.inputs = pair_inputs(dataset=self.dataset, query_ids=self.query_ids, product_ids=self.product_ids)


@dataclass(frozen=True)
class _Pair:
    task: int
    query: int
    product: int
    grade: str
    names: tuple[str, str]  # the query's and the product's external ids


def _truth_tasks(dataset: Dataset, truth: GradeTruth) -> tuple[list[_Pair], int]:
    """The truth's pairs that are open, unanswered, non-gold tasks, by task id; and how many truth pairs name a
    task already answered (or gold, or complete)."""
    rows = Task.objects.filter(dataset=dataset, query__isnull=False).values_list(
        "pk", "query_id", "product_id", "query__external_id", "product__external_id", "is_complete", "is_gold",
        "annotation_count",
    ).order_by("pk")
    found, answered = [], 0
    for pk, query, product, query_external, product_external, complete, gold, answers in rows.iterator(CHUNK):
        grade = truth.get((query_external, product_external))
        if grade is None:
            continue
        if complete or gold or answers:
            answered += 1
            continue
        found.append(_Pair(pk, query, product, grade, (query_external, product_external)))
    return found, answered


def _judgments(dataset: Dataset, truth: GradeTruth, queries: dict[str, int], gains: dict[str, float]) -> dict:
    """query id -> product id -> gain of every truth grade of these queries (external id -> id)."""
    wanted = {product for query, product in truth if query in queries}
    product_of: dict[str, int] = {}
    ordered = sorted(wanted)
    for start in range(0, len(ordered), CHUNK):
        product_of.update(
            Product.objects.filter(dataset=dataset, external_id__in=ordered[start : start + CHUNK]).values_list(
                "external_id", "pk"
            )
        )
    judgments: dict[int, dict[int, float]] = {}
    for (query, product), grade in truth.items():
        if query in queries and product in product_of:
            judgments.setdefault(queries[query], {})[product_of[product]] = gains[grade]
    return judgments


def _held_out(dataset: Dataset, truth: GradeTruth, held: list[_Pair], gains: dict) -> _HeldOut:
    query_external = {pair.query: pair.names[0] for pair in held}
    pairs: dict[tuple[int, int], float] = {}
    for query, results in bm25_results(dataset=dataset, query_ids=list(query_external)).items():
        for product, rank, _ in results:
            pairs[query, product] = rank
    for pair in held:
        pairs.setdefault((pair.query, pair.product), NO_RANK)
    keys = sorted(pairs)
    position = {key: at for at, key in enumerate(keys)}
    return _HeldOut(
        dataset=dataset,
        query_ids=np.asarray([query for query, _ in keys], dtype=np.int64),
        product_ids=np.asarray([product for _, product in keys], dtype=np.int64),
        ranks=np.asarray([pairs[key] for key in keys], dtype=np.float64),
        judgments=_judgments(dataset, truth, {e: pk for pk, e in query_external.items()}, gains),
        task_at=np.asarray([position[pair.query, pair.product] for pair in held], dtype=np.int64),
        task_grades=[pair.grade for pair in held],
    )


def simulate_relevance(
    *,
    dataset: Dataset,
    truth: GradeTruth,
    seed: int,
    heldout: float,
    **options: Any,
) -> dict:
    """Run the oracle on the dataset's (query, product) tasks and return the report (see the module docstring);
    `heldout` is the share of the truth's queries held out, `options` the rest of ``oracle_run``'s (labels,
    batch, strategy, random_share, schedule, progress)."""
    scale = scale_get(dataset.grade_scale)
    tasks, answered = _truth_tasks(dataset, truth)
    if not tasks:
        example = next(iter(truth))
        raise ApplicationError(
            f"None of the truth's {len(truth)} pairs is an open, unjudged task of {dataset.name!r} (e.g. query "
            f"{example[0]!r} and product {example[1]!r}; {answered} are judged already). Make the candidates first."
        )
    query_ids = np.asarray([pair.query for pair in tasks])
    train_at, held_at = query_holdout_split(query_ids, fraction=heldout, seed=seed)
    pool = [tasks[i] for i in train_at]
    held = [tasks[i] for i in held_at]
    if not held or len({pair.grade for pair in pool}) < 2:
        raise ApplicationError(
            f"The truth's {len(tasks)} open tasks ({len(set(query_ids.tolist()))} queries) give {len(pool)} pairs to "
            f"grade and {len(held)} held out: the pool needs two grades at least, and a query must be held out."
        )
    label_of = {label.code: label for label in Label.objects.filter(dataset=dataset, code__in=scale.gains)}
    measured = _held_out(dataset, truth, held, scale.gains)
    pool_tasks = {pair.task for pair in pool}
    excluded = [
        pk
        for pk in Task.objects.filter(dataset=dataset, is_complete=False).values_list("pk", flat=True).iterator(CHUNK)
        if pk not in pool_tasks
    ]
    run = oracle_run(
        OracleRun(
            pool={pair.task: label_of[pair.grade] for pair in pool},
            excluded=excluded,
            # Keyed by the external ids, so the order is a seed's whatever ids the import gave.
            random_keys={
                pair.task: random_key(seed=seed, external_id=f"relevance:{pair.names[0]}:{pair.names[1]}")
                for pair in pool
            },
            measure=measured.measure,
            figures=FIGURES,
        ),
        dataset=dataset,
        seed=seed,
        **options,
    )
    return run_report(
        run,
        heldout={"fraction_of_queries": heldout},
        heldout_queries=len(measured.judgments),
        heldout_size=len(held),
        heldout_pairs_ranked=len(measured.query_ids),
        pool_size=len(pool),
        pool_queries=len({pair.query for pair in pool}),
        truth_pairs=len(truth),
        truth_answered_already=answered,
        excluded_other=len(excluded) - len(held),
    )

