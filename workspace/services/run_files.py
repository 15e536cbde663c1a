"""Run files a lead uploads with a relevance candidate run: checked at once against the dataset, kept in the
storage (the worker may be on another machine) and read again by the worker, and by a retry of the run."""

from __future__ import annotations

import os
import uuid
from typing import Any

from django.core.files import File
from django.core.files.storage import default_storage

from config.errors import ApplicationError
from datasets.importers.files import ImportFormatError
from datasets.importers.runs import parse_run
from datasets.models import Dataset
from labeling.kinds.relevance.imported_runs import imported_runs_resolve

FOLDER = "candidate-runs"


def run_file_check(*, dataset: Dataset, upload: File, ranker: str) -> dict[str, dict[int, list[int]]]:
    """The file's rankings by database ids, or an ApplicationError naming what is wrong (`extra["fields"]`)."""
    upload.seek(0)
    try:
        run = parse_run(upload, ranker=ranker.strip())
    except ImportFormatError as error:
        raise ApplicationError(str(error), extra={"fields": {"run_file": [str(error)]}}) from error
    try:
        return imported_runs_resolve(dataset=dataset, run=run)
    except ApplicationError as error:
        error.extra.setdefault("fields", {"run_file": [error.message]})
        raise


def run_file_store(*, dataset: Dataset, upload: File, ranker: str) -> dict[str, Any]:
    """Keep a checked upload; what a run's params say of it."""
    upload.seek(0)
    path = default_storage.save(f"{FOLDER}/{dataset.pk}/{uuid.uuid4().hex}.run", upload)
    return {"path": path, "ranker": ranker.strip(), "name": os.path.basename(getattr(upload, "name", "") or "")}


def run_file_load(*, dataset: Dataset, stored: dict[str, Any]) -> dict[str, dict[int, list[int]]]:
    """A stored run's rankings, checked again: the dataset's queries or products may have changed since."""
    if not default_storage.exists(stored["path"]):
        raise ApplicationError(f"The run file {stored.get('name') or stored['path']!r} is gone from the storage.")
    with default_storage.open(stored["path"], "rb") as upload:
        return run_file_check(dataset=dataset, upload=upload, ranker=stored.get("ranker", ""))


def run_file_discard(stored: dict[str, Any] | None) -> None:
    if stored:
        default_storage.delete(stored["path"])
