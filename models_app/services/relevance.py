"""A relevance dataset's training run: a ranker trained on the resolved judgments, measured on held-out queries,
then every open pair rescored.

The run's lifecycle is the categorizer's (models_app.services.training): the same job, fencing, cancel checks
between pages, and activation only once every open pair is scored. The ranker (`models_app.ml.relevance`) gives
each grade's probability: the top grades are a pair's suggestions, their uncertainty (the dataset's strategy)
its priority in the queue, and the expected gain (the scale's gains) the order it would rank products in.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping

import numpy as np

from config.jobs.lifecycle import JobRun
from datasets.models import Dataset
from labeling.kinds.relevance.grades import scale_get
from labeling.kinds.relevance.ranking import ranker_report
from labeling.kinds.relevance.training import (
    PairInputs,
    catalog_search_texts,
    grade_labels,
    judged_pairs,
    open_pairs,
    pair_inputs,
)
from labeling.label_stats import annotation_last_id
from labeling.scores import TaskScoresWriter
from models_app.ml import ConfigError, RelevanceConfig, TrainingError, batches, dump_ranker, evaluate, uncertainty
from models_app.ml.relevance import (
    FEATURES,
    Ranker,
    RelevanceFeaturizer,
    query_holdout_split,
    train_relevance,
)
from models_app.ml.scoring import top_k
from models_app.models import ModelVersion
from models_app.services.activation import version_activate, version_store
from models_app.services.scoring import DIVERSE_BATCH, SUGGESTIONS, batch_raise

K = 10  # nDCG@10: the first page of results, what the list mode shows
# The features on one scale ([0, 1]) that a diverse batch clusters pairs by (batches.diverse_batch wants
# comparable scales; BM25's score and rank have none).
BOUNDED = [FEATURES.index(name) for name in (
    "title_cosine_words", "title_cosine_chars", "text_cosine_words", "query_in_title", "tokens_found",
    "identifiers_found",
)]
RANK = FEATURES.index("bm25_rank")


def ranker_config(data: dict | None) -> RelevanceConfig:
    """The dataset's model settings when they are a ranker's; otherwise (another kind's, carried over) the
    defaults."""
    try:
        return RelevanceConfig.from_dict(data or {})
    except ConfigError:
        return RelevanceConfig()


def pair_rows(
    *, dataset: Dataset, featurizer: RelevanceFeaturizer, query_ids: np.ndarray, product_ids: np.ndarray
) -> np.ndarray:
    """The feature rows of the pairs (query_ids[i], product_ids[i])."""
    inputs = pair_inputs(dataset=dataset, query_ids=query_ids, product_ids=product_ids)
    return featurize(featurizer, inputs)


def featurize(featurizer: RelevanceFeaturizer, inputs: PairInputs) -> np.ndarray:
    """The feature rows of pairs whose inputs were read."""
    return featurizer.transform(
        inputs.queries, inputs.titles, inputs.texts, bm25=inputs.bm25, ranks=inputs.ranks,
        categories=inputs.categories, top_categories=inputs.top_categories,
    )


def rankers_ndcg(
    *,
    query_ids: np.ndarray,
    product_ids: np.ndarray,
    expected: np.ndarray,
    ranks: np.ndarray,
    judgments: Mapping[int, Mapping[int, float]],
) -> dict:
    """nDCG@K of the learned ranker (the pairs of each query by `expected` gain) and of BM25 (by its `ranks`,
    NO_RANK for a pair it did not return) over the same pairs, mean over the queries `judgments` (query ->
    product -> gain) gives a gain to; {"ndcg_at_10", "bm25_ndcg_at_10", "queries"}."""
    runs: dict[str, dict[int, list[int]]] = {"learned": {}, "bm25": {}}
    for query in np.unique(query_ids):
        at = np.flatnonzero(query_ids == query)
        # Ties (equal gains, unranked pairs) fall to BM25's order, then the product id: the same every run.
        learned = at[np.lexsort((product_ids[at], ranks[at], -expected[at]))]
        bm25 = at[np.lexsort((product_ids[at], ranks[at]))]
        runs["learned"][int(query)] = product_ids[learned].tolist()
        runs["bm25"][int(query)] = product_ids[bm25].tolist()
    report = ranker_report(runs, {query: judgments.get(query, {}) for query in runs["learned"]}, k=K)
    learned, bm25 = report["rankers"]["learned"], report["rankers"]["bm25"]
    return {
        "ndcg_at_10": _rounded(learned["ndcg"]),
        "bm25_ndcg_at_10": _rounded(bm25["ndcg"]),
        "queries": learned["queries"],
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def ranker_train_and_score(version: ModelVersion, run: JobRun, *, batch: int) -> None:
    dataset = version.dataset
    last_id = annotation_last_id(dataset=dataset)
    # The label count the next automatic trigger starts from, kept even if this run fails.
    run.update(last_annotation_id=last_id)
    config = ranker_config(version.config or dataset.model_config)
    started = time.perf_counter()
    pairs, grades = judged_pairs(dataset=dataset, upto_annotation_id=last_id)
    counts = Counter(grades)
    if len(counts) < 2:
        raise TrainingError(
            f"a ranker needs judgments of at least 2 grades; there are {len(grades)} of {sorted(counts) or 'none'}"
        )
    gains = scale_get(dataset.grade_scale).gains
    featurizer = RelevanceFeaturizer.fit(catalog_search_texts(dataset=dataset))
    run.check()
    rows = pair_rows(
        dataset=dataset, featurizer=featurizer, query_ids=pairs.query_ids, product_ids=pairs.product_ids
    )
    gathered = time.perf_counter()
    run.check()
    train_at, held_at = query_holdout_split(pairs.query_ids, fraction=config.holdout, seed=dataset.seed)
    split = {
        "by": "query", "n": len(grades), "train": len(train_at), "holdout": len(held_at), "seed": dataset.seed,
        "queries": len(np.unique(pairs.query_ids)), "holdout_queries": len(np.unique(pairs.query_ids[held_at])),
        "refit_on_all": True,
    }
    metrics = _holdout_metrics(dataset, rows, pairs.query_ids, pairs.product_ids, grades, train_at, held_at, gains)
    measured = time.perf_counter()
    model = train_relevance(rows, grades, gains=gains, seed=dataset.seed)
    trained = time.perf_counter()
    version_store(
        run,
        artifact=dump_ranker(Ranker(featurizer=featurizer, model=model)),
        config=config.to_dict(),
        label_count=len(grades),
        last_annotation_id=last_id,
        split=split,
        metrics=metrics,
    )
    warm = sum(count >= dataset.cold_start_examples for count in counts.values()) >= 2
    scored = pairs_rescore(
        dataset=dataset, ranker=Ranker(featurizer=featurizer, model=model), strategy=dataset.uncertainty_strategy,
        prioritize=warm, check=run.check, batch=batch,
    )
    version_activate(
        run, timings={"holdout_s": round(measured - gathered, 3)}, started=started, gathered=gathered,
        trained=trained, scored=scored, warm=warm,
    )


def _holdout_metrics(
    dataset: Dataset,
    rows: np.ndarray,
    query_ids: np.ndarray,
    product_ids: np.ndarray,
    grades: list[str],
    train_at: np.ndarray,
    held_at: np.ndarray,
    gains: Mapping[str, float],
) -> dict:
    """A ranker fitted on the training queries, on the held-out ones: the grades' accuracy (classes as the
    dataset's label ids, as the model page reads them) and nDCG@K of it and of BM25 over their judged pairs."""
    trained_grades = [grades[i] for i in train_at]
    if not len(held_at) or len(set(trained_grades)) < 2:
        reason = "no query held out" if not len(held_at) else "the training queries hold a single grade"
        return {"n": 0, "evaluated_on": None, "notes": [f"not measured: {reason}"]}
    model = train_relevance(rows[train_at], trained_grades, gains=gains, seed=dataset.seed)
    held_rows = rows[held_at]
    label_of = {code: str(pk) for code, pk in grade_labels(dataset=dataset).items()}
    truth = [label_of[grades[i]] for i in held_at]
    predicted = [label_of[grade] for grade in model.predict(held_rows)]
    metrics = evaluate(y_true=truth, y_pred=predicted, classes=sorted({*truth, *predicted}))
    judgments: dict[int, dict[int, float]] = {}
    for i in held_at:
        judgments.setdefault(int(query_ids[i]), {})[int(product_ids[i])] = gains[grades[i]]
    figures = rankers_ndcg(
        query_ids=query_ids[held_at], product_ids=product_ids[held_at], expected=model.expected_gain(held_rows),
        ranks=held_rows[:, RANK], judgments=judgments,
    )
    return {**metrics, "evaluated_on": "holdout", **figures}


def pairs_rescore(
    *,
    dataset: Dataset,
    ranker: Ranker,
    strategy: str,
    prioritize: bool,
    check: Callable[[], None] = lambda: None,
    batch: int = DIVERSE_BATCH,
) -> int:
    """Score every open pair: its SUGGESTIONS likeliest grades with their probabilities (as the dataset's label
    ids), their uncertainty by `strategy`, and that uncertainty as the priority unless still in the cold start.

    Out of the cold start, the next `batch` pairs to serve are made diverse (``batches.diverse_batch`` over the
    BOUNDED features of the most uncertain pairs) and raised above the others (``scoring.batch_raise``).
    `check()` runs before each page is handed to the writer, so a cancelled run stops between pages.
    """
    label_of = grade_labels(dataset=dataset)
    missing = [grade for grade in ranker.model.grades if grade not in label_of]
    if missing:
        raise TrainingError(f"the ranker's grades {missing} are not the dataset's scale ({dataset.grade_scale})")
    grade_ids = np.asarray([label_of[grade] for grade in ranker.model.grades], dtype=np.int64)
    scored = 0
    candidates = batches.MostUncertain(batches.candidate_count(batch) if prioritize else 0)
    with TaskScoresWriter(dataset=dataset) as writer:
        for page in open_pairs(dataset=dataset):
            rows = pair_rows(
                dataset=dataset, featurizer=ranker.featurizer, query_ids=page.query_ids, product_ids=page.product_ids
            )
            probabilities = ranker.model.predict_proba(rows)
            columns, top = top_k(probabilities, SUGGESTIONS)
            labels, top = grade_ids[columns], np.round(top.astype(np.float64), 4)
            doubt = np.round(uncertainty(probabilities, strategy).astype(np.float64), 6)
            check()
            writer.write(
                task_ids=page.task_ids, labels=labels, probabilities=top, uncertainty=doubt,
                priority=doubt if prioritize else np.zeros(len(doubt)),
            )
            candidates.add(doubt, task_ids=page.task_ids, labels=labels, probabilities=top, features=rows[:, BOUNDED])
            scored += len(page.task_ids)
        if scored > batch and len(candidates) > 1:
            batch_raise(
                writer, candidates, candidates.items["features"], size=batch, seed=dataset.seed, check=check,
                labels=candidates.items["labels"], probabilities=candidates.items["probabilities"],
            )
    return scored

