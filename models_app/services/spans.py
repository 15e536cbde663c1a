"""A span dataset's training run: a tagger (`models_app.ml.spans`: spaCy's blank English and `ner`, on the CPU,
for the config's fixed epochs) trained on the resolved span answers, measured on held-out titles, then every
open task rescored.

The run's lifecycle is the categorizer's (models_app.services.training): the same job, fencing, cancel checks
between pages, and activation only once every open task is scored. A task's suggestions are the tagger's spans
[[token_start, token_end, label id, probability]] (the probability: the beam's share on parses holding the
span); its uncertainty 1 - the smallest token margin over the beam (`models_app.ml.spans`: the least sure
token, since one doubtful attribute is what a person is needed for), whatever the dataset's uncertainty
strategy names, which reads class probabilities a tagger does not give; the priority that uncertainty, once
out of the cold start. The diverse batch of the other kinds is not made: a tagger has no feature rows to
cluster titles by.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable

from config.jobs.lifecycle import JobRun
from datasets.models import Dataset
from labeling.kinds.spans.training import marked_titles, open_titles, span_type_codes
from labeling.label_stats import annotation_last_id
from labeling.scores import task_scores_write
from models_app.ml import ConfigError, TrainingError, cold_start_over
from models_app.ml.spans import SpanConfig, SpanExample, SpanModel, train_and_measure
from models_app.models import ModelVersion
from models_app.services.activation import version_activate, version_store

# Below this many answered titles a tagger learns nothing and its holdout is one or two titles.
MIN_TITLES = 5
FIGURES = ("precision", "recall", "f1")


def span_config(data: dict | None) -> SpanConfig:
    """The dataset's model settings when they are a tagger's; otherwise (another kind's, carried over) the
    defaults."""
    try:
        return SpanConfig.from_dict(data or {})
    except ConfigError:
        return SpanConfig()


def span_metrics(figures: dict | None) -> dict:
    """`span_prf`'s figures as a version keeps them: micro precision, recall and F1 on top ("n" the held-out
    titles), macro ones (the mean over the types the holdout or the tagger holds), and per type."""
    if figures is None:
        return {"n": 0, "evaluated_on": None, "notes": ["not measured: no title held out"]}
    per_type = figures["per_label"]
    macro = {name: round(sum(f[name] for f in per_type.values()) / len(per_type), 4) if per_type else 0.0
             for name in FIGURES}
    return {
        "n": figures["documents"],
        "evaluated_on": "holdout",
        **{name: figures["micro"][name] for name in FIGURES},
        **{f"macro_{name}": value for name, value in macro.items()},
        "spans": figures["micro"]["support"],
        "per_type": per_type,
    }


def spans_train_and_score(version: ModelVersion, run: JobRun, *, batch: int) -> None:
    dataset = version.dataset
    last_id = annotation_last_id(dataset=dataset)
    # The label count the next automatic trigger starts from, kept even if this run fails.
    run.update(last_annotation_id=last_id)
    # Seeded by the dataset, as the other kinds' trainings: the config keeps the seed it ran with.
    config = dataclasses.replace(span_config(version.config or dataset.model_config), seed=dataset.seed)
    started = time.perf_counter()
    marked = marked_titles(dataset=dataset, upto_annotation_id=last_id)
    codes = span_type_codes(dataset=dataset)
    counts = Counter(label for title in marked for _, _, label in title.spans)
    if len(marked) < MIN_TITLES or not counts:
        raise TrainingError(
            f"a span tagger needs at least {MIN_TITLES} answered titles with a span among them; there are "
            f"{len(marked)} titles with {counts.total()} spans"
        )
    gathered = time.perf_counter()
    run.check()
    result = train_and_measure(
        [SpanExample(text=title.text, spans=title.spans) for title in marked],
        labels=sorted(codes.values()), config=config,
    )
    trained = time.perf_counter()
    split = {key: value for key, value in result.split.items() if key != "holdout_ids"}
    version_store(
        run,
        artifact=result.model.to_bytes(),
        config=config.to_dict(),
        label_count=len(marked),
        last_annotation_id=last_id,
        split={"by": "title", **split, "refit_on_all": False},
        metrics=span_metrics(result.metrics),
    )
    warm = cold_start_over(list(counts.elements()), examples=dataset.cold_start_examples)
    scored = titles_rescore(dataset=dataset, model=result.model, prioritize=warm, check=run.check)
    version_activate(
        run, timings={}, started=started, gathered=gathered, trained=trained, scored=scored, warm=warm
    )


def titles_rescore(
    *, dataset: Dataset, model: SpanModel, prioritize: bool, check: Callable[[], None] = lambda: None
) -> int:
    """Score every open task with the tagger: its spans as suggestions, its uncertainty, and that uncertainty as
    the priority unless still in the cold start (see the module). `check()` runs before each page is written, so
    a cancelled run stops between pages; each page is written all or nothing (by short
    transactions on SQLite: ``labeling.scores``)."""
    label_of = {code: pk for pk, code in span_type_codes(dataset=dataset).items()}
    scored = 0
    for page in open_titles(dataset=dataset):
        predictions = model.predict(page.texts)
        rows = []
        for task_id, prediction in zip(page.task_ids, predictions, strict=True):
            suggestions = [
                [span.token_start, span.token_end, label_of[span.label], span.probability]
                for span in prediction.spans
                if span.label in label_of  # a type deleted since the training
            ]
            rows.append((task_id, suggestions, prediction.uncertainty, prediction.uncertainty if prioritize else 0.0))
        check()
        task_scores_write(dataset=dataset, rows=rows)
        scored += len(rows)
    return scored
