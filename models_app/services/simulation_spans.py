"""Active-learning simulation on a span dataset: the oracle marks each served title with its true spans.

The truth is a JSON Lines file, a product a line: {"external_id": ..., "spans": [{"token_start", "token_end"
(inclusive), "label"}, ...]}, the tokens those of the title as the annotator sees it and the labels the dataset's
span types' codes (`load_demo_attributes` writes one for the demo attributes). The truth's products whose tasks
are open and unanswered make the pool; a seeded fraction of them is held out (their tasks kept out of the
queue). At each checkpoint the real services train a tagger (training_request + model_version_train, which
rescores the open tasks and reorders the queue), and its artifact is measured on the held-out titles: entity-level
precision, recall and F1 (micro, a span found only when its tokens and type are the truth's) and the macro F1
over the types.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from config.errors import ApplicationError
from datasets.models import Dataset, Label
from labeling.kinds.spans.training import task_titles
from labeling.models import Task
from labeling.queue import random_key
from models_app.ml.span_metrics import span_prf
from models_app.ml.spans import SpanModel, holdout_split
from models_app.services.simulation_oracle import OracleRun, oracle_run, run_report
from models_app.services.spans import span_metrics

SpanTruth = dict[str, list[tuple[int, int, str]]]  # external id -> (token_start, token_end inclusive, type code)
FIGURES = ("precision", "recall", "f1", "macro_f1")
CHUNK = 5000


def span_truth_read(path: Path | str) -> SpanTruth:
    """The truth file's products and their spans (see the module); a line that is not one is refused with its
    number."""
    path = Path(path)
    truth: SpanTruth = {}
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    external_id, spans = _truth_line(line, f"{path}: line {number}")
                    truth[external_id] = spans
    except OSError as error:
        raise ApplicationError(f"{path}: cannot be read ({error.strerror or error}).") from error
    if not truth:
        raise ApplicationError(f"{path}: no product.")
    return truth


def _truth_line(line: str, where: str) -> tuple[str, list[tuple[int, int, str]]]:
    try:
        record = json.loads(line)
        spans = [(span["token_start"], span["token_end"], str(span["label"])) for span in record["spans"]]
        external_id = str(record["external_id"])
    except (ValueError, KeyError, TypeError):
        raise ApplicationError(
            f'{where}: not {{"external_id": ..., "spans": [{{"token_start", "token_end", "label"}}, ...]}}.'
        ) from None
    if not all(isinstance(n, int) and not isinstance(n, bool) for first, last, _ in spans for n in (first, last)):
        raise ApplicationError(f"{where}: token_start and token_end are token numbers.")
    return external_id, sorted(spans)


class _HeldOut:
    """The held-out titles and their true spans, measured against a version's tagger."""

    def __init__(self, titles: dict[int, str], truth: dict[int, list[tuple[int, int, str]]]) -> None:
        self.ids = sorted(titles)
        self.texts = [titles[pk] for pk in self.ids]
        self.gold = [truth[pk] for pk in self.ids]

    def measure(self, version: Any) -> dict:
        started = time.perf_counter()
        version.artifact.open("rb")
        try:
            model = SpanModel.from_bytes(version.artifact.read())
        finally:
            version.artifact.close()
        predicted = [[(s.token_start, s.token_end, s.label) for s in p.spans] for p in model.predict(self.texts)]
        metrics = span_metrics(span_prf(self.gold, predicted))
        return {**{name: metrics[name] for name in FIGURES}, "eval_s": time.perf_counter() - started}


def simulate_spans(*, dataset: Dataset, truth: SpanTruth, seed: int, heldout: float, **options: Any) -> dict:
    """Run the oracle on the dataset's span tasks and return the report (see the module docstring); `options` are
    the rest of ``oracle_run``'s (labels, batch, strategy, random_share, schedule, progress). Every strategy but
    random serves by the tagger's uncertainty, the one a tagger has (`models_app.services.spans`)."""
    label_of = dict(Label.objects.filter(dataset=dataset).values_list("code", "pk"))
    unknown = sorted({label for spans in truth.values() for _, _, label in spans} - set(label_of))
    if unknown:
        raise ApplicationError(
            f"The truth marks types {unknown[:5]} that are not {dataset.name!r}'s: {', '.join(sorted(label_of))}."
        )
    fresh = Task.objects.filter(dataset=dataset, is_complete=False, is_gold=False, annotation_count=0)
    tasks = {
        external_id: pk
        for external_id, pk in fresh.values_list("product__external_id", "pk").iterator(chunk_size=CHUNK)
        if external_id in truth
    }
    names = sorted(tasks)
    pool_at, held_at = holdout_split(len(names), fraction=heldout, seed=seed)
    pool = [tasks[names[i]] for i in pool_at]
    held = {tasks[names[i]]: truth[names[i]] for i in held_at}
    if len(pool) < 2 or not held:
        raise ApplicationError(
            f"The truth's {len(truth)} products name {len(tasks)} open, unanswered tasks of {dataset.name!r}: too "
            "few for a pool and a held-out set."
        )
    measured = _HeldOut(task_titles(dataset=dataset, task_ids=sorted(held)), held)
    external = {pk: external_id for external_id, pk in tasks.items()}
    pool_set = set(pool)
    excluded = [
        pk for pk in Task.objects.filter(dataset=dataset, is_complete=False).values_list("pk", flat=True)
        .iterator(chunk_size=CHUNK) if pk not in pool_set
    ]
    run = oracle_run(
        OracleRun(
            pool={
                pk: [[first, last, label_of[label]] for first, last, label in truth[external[pk]]] for pk in pool
            },
            excluded=excluded,
            random_keys={pk: random_key(seed=seed, external_id=external[pk]) for pk in pool},
            measure=measured.measure,
            figures=FIGURES,
        ),
        dataset=dataset,
        seed=seed,
        **options,
    )
    return run_report(
        run,
        heldout={"fraction": heldout},
        heldout_size=len(held),
        heldout_spans=sum(len(spans) for spans in held.values()),
        pool_size=len(pool),
        truth_titles=len(truth),
        excluded_other=len(excluded) - len(held),
    )
