"""Candidate runs: a lead asks for a dataset's candidates, the worker proposes them and writes the new tasks.

The work itself is the kind's: a matching dataset's pairs by blocking (`labeling.kinds.matching.candidates`,
with blocking settings), a relevance dataset's (query, product) pairs by BM25 and pooling
(`labeling.kinds.relevance.candidates`, with a depth and a pool). This module makes it a job (one at a time per
dataset, progress, cancel, a report kept with the run) and, once a run added tasks to a dataset that has an
active model, asks for a training run, which rescores every open task.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from functools import partial
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import IntegrityError, transaction

from config.errors import ApplicationError, ConflictError
from config.jobs.dispatch import job_enqueue
from config.jobs.lifecycle import JobRun, job_execute, job_state
from config.jobs.models import JobStatus
from datasets.models import Dataset, TaskType
from labeling.kinds.matching.blocking import BlockingConfig, BlockingConfigError
from labeling.kinds.matching.candidates import candidates_generate
from labeling.kinds.relevance.candidates import relevance_candidates, relevance_params_clean
from models_app.models import TrainingTrigger
from models_app.selectors import model_version_active
from models_app.services.training import training_request
from workspace.models import CandidateRun
from workspace.services.run_files import run_file_check, run_file_discard, run_file_load, run_file_store

logger = logging.getLogger(__name__)

# Progress goes to the job row at most this often (each write is a fenced UPDATE).
PROGRESS_SECONDS = 1.0
Progress = Callable[[str, float], None]
_SETTING_NAMES = ("min_similarity", "skip_same_source", "source_field", "threads", "fields", "keys", "k")


def _setting_named(message: str) -> str:
    """Which setting a BlockingConfigError is about, from its wording ("k must ...", "fields: ..."); "" if none."""
    if message.startswith("Unknown blocking setting") or message.startswith("k and min_similarity"):
        return ""
    return next((name for name in _SETTING_NAMES if message.startswith(name)), "")


def blocking_config_clean(data: dict[str, Any] | None) -> BlockingConfig:
    """The blocking settings, or an ApplicationError naming the bad one (`extra["fields"]`, as the API reports
    a field's errors)."""
    try:
        config = BlockingConfig.from_dict(data)
    except (BlockingConfigError, TypeError) as error:
        name = _setting_named(str(error)) or "non_field_errors"
        raise ApplicationError(str(error), extra={"fields": {name: [str(error)]}}) from error
    if config.skip_same_source and not config.source_field.strip():
        message = "Name the source field (a product column or attribute) to skip pairs within one source."
        raise ApplicationError(message, extra={"fields": {"source_field": [message]}})
    return config


def candidate_params_clean(*, dataset: Dataset, params: dict[str, Any] | None) -> dict[str, Any]:
    """The run's settings for the dataset's kind: blocking settings for matching, depth and pool for relevance;
    a categorization dataset has no candidates to propose (every product is a task)."""
    if dataset.task_type == TaskType.MATCHING:
        return blocking_config_clean(params).to_dict()
    if dataset.task_type == TaskType.RELEVANCE:
        return relevance_params_clean(params)
    raise ApplicationError(
        "Candidates are for matching and search relevance datasets; in a categorization dataset every product "
        "is a task already.",
        extra={"task_type": dataset.task_type},
    )


def candidate_run_create(
    *,
    dataset: Dataset,
    user: AbstractBaseUser | None,
    params: dict[str, Any] | None,
    enqueue: bool = True,
    run_file: File | None = None,
    ranker: str = "",
    stored_run_file: dict[str, Any] | None = None,
) -> CandidateRun:
    """Queue a run with these settings, sent to the workers on commit (enqueue=False: the caller runs it, as the
    command does). A dataset runs one at a time: asking while one waits or runs is a 409 naming it.

    A relevance run may bring another ranker's results (`run_file`, a TREC run or a CSV, `ranker` naming a CSV's
    ranker; a retry passes the first run's `stored_run_file`): checked now, kept, pooled with BM25's by the run.
    """
    cleaned = candidate_params_clean(dataset=dataset, params=params)
    if (run_file is not None or stored_run_file) and dataset.task_type != TaskType.RELEVANCE:
        message = "Run files are for search relevance datasets."
        raise ApplicationError(message, extra={"fields": {"run_file": [message]}})
    if run_file is not None:
        run_file_check(dataset=dataset, upload=run_file, ranker=ranker)
    with transaction.atomic():
        Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
        busy = CandidateRun.objects.filter(dataset=dataset, status__in=(JobStatus.QUEUED, JobStatus.RUNNING)).first()
        if busy is not None:
            raise ConflictError(
                f"Candidate run {busy.pk} of this dataset is {job_state(busy)}; wait for it or cancel it first.",
                extra={"run": busy.pk},
            )
        if run_file is not None:
            stored_run_file = run_file_store(dataset=dataset, upload=run_file, ranker=ranker)
        if stored_run_file:
            cleaned["run_file"] = stored_run_file
        try:
            with transaction.atomic():
                run = CandidateRun.objects.create(dataset=dataset, params=cleaned, created_by=user)
        except IntegrityError as error:  # a concurrent request got in first (SQLite takes no row lock)
            if run_file is not None:
                run_file_discard(stored_run_file)
            raise ConflictError("Another candidate run of this dataset has just been queued.") from error
        if enqueue:
            job_enqueue(run)
    return run


def candidate_run_retry(*, run: CandidateRun, user: AbstractBaseUser | None) -> CandidateRun:
    """A new run with the same settings after a failed or cancelled one; a finished run keeps its report."""
    if not run.can_retry:
        raise ConflictError(f"This candidate run is {job_state(run)}; only a failed or cancelled one can be retried.")
    params = {name: value for name, value in run.params.items() if name != "run_file"}
    return candidate_run_create(
        dataset=run.dataset, user=user, params=params, stored_run_file=run.params.get("run_file")
    )


def candidate_run_execute(*, run_id: int, on_progress: Progress | None = None) -> CandidateRun | None:
    """Run a queued run in this process (the worker's task, the command; `on_progress(phase, fraction)` hears
    every step). Safe to call twice: a finished run is left as it is, and one whose worker died runs again (the
    pairs it wrote are found and not written twice)."""
    return job_execute(
        CandidateRun,
        run_id,
        partial(_run, on_progress=on_progress),
        on_error=lambda error: "The candidate run stopped on an unexpected error; the pairs it wrote are kept.",
    )


class _Progress:
    """Writes the phase and its fraction to the job row (throttled, every phase change at once) and stops the run
    once it was cancelled or taken over."""

    def __init__(self, run: JobRun, echo: Progress | None) -> None:
        self._run = run
        self._echo = echo
        self._phase = ""
        self._written = 0.0

    def __call__(self, phase: str, fraction: float) -> None:
        now = time.monotonic()
        if phase != self._phase or now - self._written >= PROGRESS_SECONDS:
            self._phase, self._written = phase, now
            self._run.update(phase=phase, fraction=round(fraction, 4))
        if self._echo is not None:
            self._echo(phase, fraction)
        self._run.check()


def _rescore(dataset: Dataset) -> dict[str, Any] | None:
    """New pairs have no score: with an active matcher, ask for a run that retrains and rescores every open pair."""
    if model_version_active(dataset=dataset) is None:
        return None
    try:
        version = training_request(dataset=dataset, trigger=TrainingTrigger.AUTO)
    except ApplicationError as error:  # the broker refused: the pairs stay unscored until the next run
        logger.warning("no rescore after candidates of dataset %s: %s", dataset.pk, error.message)
        return {"requested": False, "message": error.message}
    return {"requested": True, "version": version.number}


def _summary(report: dict[str, Any]) -> str:
    if "pooled" in report:
        return (
            f"{report['queries']:,} queries over {report['products']:,} products: {report['pooled']:,} pooled pairs, "
            f"{report['created']:,} new tasks."
        )
    ratio = report["reduction_ratio"]
    text = f"{report['candidates']:,} candidates, {report['new_pairs']:,} new pairs"
    if ratio is not None:
        text += f", reduction ratio {ratio:.4f}"
    if report["pair_completeness"] is not None:
        text += f", pair completeness {report['pair_completeness']:.3f} of {report['known_matches']:,} known matches"
    return text + "."


def _relevance_report(dataset: Dataset, params: dict[str, Any], progress: Progress, check: Callable) -> dict:
    # Checked again: the dataset's queries or products may have changed since the run was asked for.
    stored = params.get("run_file")
    runs = run_file_load(dataset=dataset, stored=stored) if stored else None
    counts = relevance_candidates(
        dataset=dataset, depth=params["depth"], pool=params["pool"], runs=runs, check=check, progress=progress
    )
    return asdict(counts)


def _run(job: CandidateRun, run: JobRun, *, on_progress: Progress | None) -> None:
    progress = _Progress(run, on_progress)
    try:
        if job.dataset.task_type == TaskType.RELEVANCE:
            report = _relevance_report(job.dataset, job.params, progress, run.check)
        else:
            config = BlockingConfig.from_dict(job.params)
            report = candidates_generate(dataset=job.dataset, config=config, progress=progress, check=run.check)
    except (ApplicationError, BlockingConfigError) as error:
        run.fail(getattr(error, "message", str(error)), phase="")
        return
    if report.get("new_pairs") or report.get("created"):
        rescore = _rescore(job.dataset)
        if rescore is not None:
            report["rescore"] = rescore
    run.check()
    run.finish(JobStatus.SUCCEEDED, _summary(report), report=report, phase="", fraction=1.0)
