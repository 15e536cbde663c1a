"""Export snapshots: check the parameters, then build the file in the worker, streaming rows to storage.

The rows come from `export_rows` (one SQL query decides each label under the policy); the writers
stream them into a temporary file that is hashed as it is written and then moved into storage. The
stored file is written once; a download serves those very bytes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Q
from django.utils.text import slugify

from config.errors import ApplicationError
from config.jobs.dispatch import job_enqueue
from config.jobs.lifecycle import JobRun, job_execute
from datasets.exporters import EXTENSIONS, write_export
from datasets.exporters.splits import SPLIT_NAMES, split_warnings
from datasets.models import Dataset, Label
from labeling.kinds import kind_get
from labeling.models import Annotation, AnnotationStatus, Task
from labeling.resolve import LabelPolicy
from workspace.models import Export, ExportFormat, ExportStatus
from workspace.services.export_params import export_params_clean
from workspace.services.export_rows import ExportReader, export_rows, split_codes

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 20_000
def export_create(
    *, dataset: Dataset, user: AbstractBaseUser | None, fmt: str, policy: str, options: dict[str, Any] | None = None
) -> Export:
    """Record the snapshot's parameters and queue its build in the worker once this transaction commits."""
    params = export_params_clean(fmt=fmt, policy=policy, options=options, dataset=dataset)
    with transaction.atomic():
        export = Export.objects.create(dataset=dataset, format=fmt, policy=policy, params=params, created_by=user)
        job_enqueue(export)
    return export


# -- rows ------------------------------------------------------------------------------------------


def export_estimate(*, dataset: Dataset, params: dict[str, Any]) -> int:
    """About how many rows the export holds, for its progress bar (exact counts would cost a second pass)."""
    submitted = Annotation.objects.filter(dataset=dataset, status=AnnotationStatus.SUBMITTED)
    if params["policy"] == LabelPolicy.RAW:
        return submitted.count()
    if params["policy"] == LabelPolicy.PREDICTED:
        return Task.objects.filter(dataset=dataset).count()
    return Task.objects.filter(Q(annotation_count__gt=0) | Q(is_gold=True), dataset=dataset).count()


def _labels_in_use(dataset: Dataset) -> list[str]:
    """Every label an export of this dataset can carry: spaCy's exclusive `cats` list them all on each doc."""
    used = set(Annotation.objects.filter(dataset=dataset, label__isnull=False).values_list("label_id", flat=True))
    used |= set(Task.objects.filter(dataset=dataset, gold_label__isnull=False).values_list("gold_label_id", flat=True))
    return list(Label.objects.filter(pk__in=used).values_list("path", flat=True))


# -- writing ---------------------------------------------------------------------------------------


class _HashingWriter:
    """A binary file that hashes and counts what goes through it, so the file is read once: while written.

    Writers write a row at a time; small writes are gathered and hashed and written 256 KB at a time.
    """

    BUFFER_BYTES = 256 * 1024

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self._pending: list[bytes] = []
        self._pending_size = 0
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.closed = False

    def write(self, data: bytes) -> int:
        self._pending.append(data)
        self._pending_size += len(data)
        if self._pending_size >= self.BUFFER_BYTES:
            self.flush()
        return len(data)

    def tell(self) -> int:
        return self.size + self._pending_size

    def flush(self) -> None:
        if self._pending:
            chunk = b"".join(self._pending)
            self._pending.clear()
            self._pending_size = 0
            self.sha256.update(chunk)
            self.size += len(chunk)
            self._file.write(chunk)
        self._file.flush()

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        # pyarrow closes the sink it is given; the real file is closed by its owner, after a last flush.
        self.flush()
        self.closed = True


class _TemporaryFile(File):
    """A finished file on local disk: FileSystemStorage moves it into place instead of copying it."""

    def temporary_file_path(self) -> str:
        return self.file.name


@dataclass(frozen=True, slots=True)
class ExportResult:
    rows: int
    size: int
    sha256: str
    # With a split: the rows of each part (train, dev, test, zeros included) and "warnings", a list of
    # sentences naming a part asked for that came out empty or short (see split_warnings); else empty.
    split_counts: dict[str, Any]


def export_write(
    *, dataset: Dataset, params: dict[str, Any], out: BinaryIO, on_progress: Callable[[int], None] | None = None
) -> ExportResult:
    """Write one export to the binary file `out`. Used by snapshots and by the export_dataset command."""
    writer = _HashingWriter(out)
    split_counts: Counter[str] = Counter()
    with ExportReader() as reader:
        splits = split_codes(reader, dataset, params) if params["split"] else None
        rows = export_rows(dataset=dataset, params=params, reader=reader, splits=splits)

        def counted() -> Iterator[dict[str, Any]]:
            for done, row in enumerate(rows, start=1):
                if row.get("split"):  # a cluster export's rows have no split
                    split_counts[row["split"]] += 1
                if on_progress is not None and done % PROGRESS_EVERY == 0:
                    on_progress(done)
                yield row

        labels = _labels_in_use(dataset) if params["format"] == ExportFormat.SPACY else None
        columns = kind_get(dataset.task_type).export_columns_for(params=params)
        count = write_export(counted(), writer, fmt=params["format"], labels=labels, columns=columns)
        writer.flush()
    summary: dict[str, Any] = {}
    if splits is not None:
        summary = {name: split_counts[name] for name in SPLIT_NAMES}
        summary["warnings"] = split_warnings(splits[1], params["split"])
    return ExportResult(count, writer.size, writer.sha256.hexdigest(), summary)


class _ProgressWriter:
    """Writes an export's progress where other connections see it while the build's own transaction is open,
    and stops the build (JobStopped) once it was cancelled or claimed by another worker."""

    def __init__(self, export_id: int, run: JobRun) -> None:
        self._export_id = export_id
        self._run = run
        # PostgreSQL reads the rows in one transaction: progress needs a connection of its own to be seen.
        self._own = connections.create_connection(DEFAULT_DB_ALIAS) if connection.vendor == "postgresql" else None

    def __call__(self, rows_done: int) -> None:
        self._run.check()
        db = self._own or connection
        with db.cursor() as cursor:
            cursor.execute(
                "UPDATE workspace_export SET rows_done = %s WHERE id = %s AND attempts = %s",
                [rows_done, self._export_id, self._run.job.attempts],
            )

    def close(self) -> None:
        if self._own is not None:
            self._own.close()


def _storage_name(export: Export) -> str:
    slug = slugify(export.dataset.name)[:60] or "dataset"
    return f"exports/{export.dataset_id}/{slug}-export-{export.pk}-{export.policy}.{EXTENSIONS[export.format]}"


def export_run(*, export_id: int) -> Export | None:
    """Build a queued snapshot. Safe to run twice: a finished export is left as it is, one whose worker died
    is rebuilt from the start, and only the newest claim may store its file."""
    return job_execute(Export, export_id, _build, on_error=lambda error: "The export stopped on an unexpected error.")


def _build(export: Export, run: JobRun) -> None:
    rows_total = export_estimate(dataset=export.dataset, params=export.params)
    run.update(rows_done=0, rows_total=rows_total)
    progress = _ProgressWriter(export.pk, run)
    temporary = tempfile.NamedTemporaryFile(  # noqa: SIM115 - moved into storage below, or removed on failure
        dir=settings.FILE_UPLOAD_TEMP_DIR, prefix=f"export-{export.pk}-", delete=False
    )
    try:
        with temporary:
            result = export_write(dataset=export.dataset, params=export.params, out=temporary, on_progress=progress)
        run.check()
        with open(temporary.name, "rb") as finished:
            name = default_storage.save(_storage_name(export), _TemporaryFile(finished))
    except (ValueError, ApplicationError) as error:
        # The writers' refusals (a label outside the taxonomy, say) and a predicted export's model gone since its
        # snapshot are for the lead to read.
        run.fail(str(error))
        return
    finally:
        progress.close()
        if os.path.exists(temporary.name):
            os.unlink(temporary.name)
    saved = run.finish(
        ExportStatus.SUCCEEDED,
        f"{result.rows} rows.",
        file=name,
        # The name the lead downloads; storage may have suffixed its own copy's name to keep it unique.
        filename=os.path.basename(_storage_name(export)),
        row_count=result.rows,
        rows_done=result.rows,
        size_bytes=result.size,
        sha256=result.sha256,
        split_counts=result.split_counts,
    )
    if not saved:
        default_storage.delete(name)  # cancelled, or another claim of this export owns it now
