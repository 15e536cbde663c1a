"""A matching dataset's training run: a pair matcher trained on the resolved pairs, then every open pair rescored.

The run's lifecycle is the categorizer's (models_app.services.training): the same job, fencing, cancel
checks between pages, and activation only once every open pair is scored.
"""

import time
from collections import Counter
from collections.abc import Callable

import numpy as np

from config.jobs.lifecycle import JobRun
from datasets.models import Dataset, Label
from labeling.kinds.matching.kind import MATCH, NO_MATCH
from labeling.kinds.matching.training import catalog_records, open_pair_ids, product_records, training_pairs
from labeling.label_stats import annotation_last_id
from labeling.scores import TaskScoresWriter
from models_app.ml import (
    ConfigError,
    Matcher,
    MatcherConfig,
    TrainingError,
    batches,
    dump_matcher,
    score_pair_ids,
    train_matcher,
)
from models_app.models import ModelVersion
from models_app.services.activation import version_activate, version_store
from models_app.services.scoring import DIVERSE_BATCH, batch_raise

# Below this many labels of either answer a matcher is neither fitted nor calibrated with any sense.
MIN_PER_CLASS = 2


def matcher_config(data: dict | None) -> MatcherConfig:
    """The dataset's model settings when they are a matcher's; otherwise (a categorizer's settings, carried
    over or left as they were) the matcher's defaults."""
    try:
        return MatcherConfig.from_dict(data or {})
    except ConfigError:
        return MatcherConfig()


def matcher_train_and_score(version: ModelVersion, run: JobRun, *, batch: int) -> None:
    dataset = version.dataset
    last_id = annotation_last_id(dataset=dataset)
    # The label count the next automatic trigger starts from, kept even if this run fails.
    run.update(last_annotation_id=last_id)
    config = matcher_config(version.config or dataset.model_config)
    started = time.perf_counter()
    left, right, labels = training_pairs(dataset=dataset, upto_annotation_id=last_id)
    gathered = time.perf_counter()
    counts = Counter(labels)
    if min(counts[1], counts[0]) < MIN_PER_CLASS:
        raise TrainingError(
            f"a matcher needs at least {MIN_PER_CLASS} labeled pairs of each answer; "
            f"there are {counts[1]} match and {counts[0]} no match"
        )
    catalog = catalog_records(dataset=dataset)
    run.check()
    result = train_matcher(left=left, right=right, labels=labels, config=config, seed=dataset.seed, catalog=catalog)
    trained = time.perf_counter()
    version_store(
        run,
        artifact=dump_matcher(result.matcher),
        config=config.to_dict(),
        label_count=len(labels),
        last_annotation_id=last_id,
        split=result.split,
        metrics=result.metrics,
    )

    warm = min(counts.values()) >= dataset.cold_start_examples
    scored = pairs_rescore(
        dataset=dataset, matcher=result.matcher, prioritize=warm, check=run.check,
        batch=batch,
    )
    version_activate(
        run, timings=result.timings, started=started, gathered=gathered, trained=trained, scored=scored, warm=warm
    )


def pairs_rescore(
    *,
    dataset: Dataset,
    matcher: Matcher,
    prioritize: bool,
    check: Callable[[], None] = lambda: None,
    batch: int = DIVERSE_BATCH,
) -> int:
    """Score every open pair: both answers' probabilities as suggestions (match first), the uncertainty around
    the matcher's threshold, and that uncertainty as the priority unless still in the cold start.

    Out of the cold start, the next `batch` pairs to serve (the labels until the next training) are made
    diverse (``batches.diverse_batch`` over the most uncertain pairs' features) and raised above the others by
    BATCH_BOOST (``scoring.batch_raise``), when more pairs are open than that.

    `check()` runs before each page is handed to the writer, so a cancelled run stops between pages. Pairs are
    read as product ids, and each product's fields once, when first met; pages are written (by short
    transactions: ``labeling.scores``) while the next is scored.
    """
    label_ids = dict(
        Label.objects.filter(dataset=dataset, code__in=[MATCH.code, NO_MATCH.code]).values_list("code", "pk")
    )
    labels = [label_ids[MATCH.code], label_ids[NO_MATCH.code]]
    scored = 0
    cache = matcher.featurizer.cache()  # each product parsed once for every page, not once per pair
    candidates = batches.MostUncertain(batches.candidate_count(batch) if prioritize else 0)
    with TaskScoresWriter(dataset=dataset) as writer:
        for task_ids, left, right in open_pair_ids(dataset=dataset):
            new = cache.unknown(np.concatenate([left, right]))
            new_ids, new_records = product_records(dataset=dataset, product_ids=new)
            if len(new_ids) < len(new):  # products deleted since the page was read: their pairs are gone too
                gone = np.setdiff1d(new, new_ids)
                kept = ~(np.isin(left, gone) | np.isin(right, gone))
                task_ids, left, right = task_ids[kept], left[kept], right[kept]
            chunk = score_pair_ids(
                matcher=matcher, left=left, right=right, cache=cache, new_ids=new_ids, new_records=new_records
            )
            # As round(float(p), 4) and round(float(u), 6) per pair: exact on float32 values scaled by 10^k.
            match = np.round(chunk.probabilities.astype(np.float64), 4)
            uncertainty = np.round(chunk.uncertainty.astype(np.float64), 6)
            check()
            writer.write(
                task_ids=task_ids,
                labels=labels,
                probabilities=np.column_stack([match, np.round(1 - match, 4)]),
                uncertainty=uncertainty,
                priority=uncertainty if prioritize else np.zeros(len(task_ids)),
            )
            candidates.add(uncertainty, task_ids=task_ids, left=left, right=right, match=match)
            scored += len(task_ids)
        if scored > batch and len(candidates) > 1:
            pairs = candidates.items
            features = matcher.featurizer.transform_ids(pairs["left"], pairs["right"], cache=cache)
            match = pairs["match"]
            batch_raise(
                writer, candidates, features, size=batch, seed=dataset.seed, check=check,
                labels=labels, probabilities=np.column_stack([match, np.round(1 - match, 4)]),
            )
    return scored
