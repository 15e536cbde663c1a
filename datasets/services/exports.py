"""Export snapshots: check the parameters, then build the file in the worker, streaming rows to storage.

The rows come from one SQL query per export (the label policy's vote counts are aggregated in the
database), read through a server-side cursor on PostgreSQL, so memory holds a batch of rows, never
the dataset. The stored file is written once; a download serves those very bytes.
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

import numpy as np
import orjson
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from config.errors import ApplicationError
from datasets.exporters import EXTENSIONS, write_export
from datasets.exporters.common import PRODUCT_COLUMNS
from datasets.exporters.splits import SPLIT_NAMES, assign_splits, parse_fractions
from datasets.models import Dataset, Export, ExportFormat, ExportStatus, Label, LabelPolicy
from labeling.models import Annotation, AnnotationStatus, LabelSource, Task

logger = logging.getLogger(__name__)

FETCH_ROWS = 5_000
PROGRESS_EVERY = 20_000
DEFAULTS: dict[str, Any] = {
    "min_agreement": 0.5,
    "min_votes": 1,
    "include_flagged": False,
    "include_suggestions": False,
    "split": None,
    "seed": 0,
}


# -- parameters ------------------------------------------------------------------------------------


def export_params_clean(*, fmt: str, policy: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every parameter of a snapshot, normalized, defaults filled in; ApplicationError names a bad one."""
    if fmt not in ExportFormat.values:
        raise ApplicationError(f"Unknown export format {fmt!r}; choose one of {', '.join(ExportFormat.values)}.")
    if policy not in LabelPolicy.values:
        raise ApplicationError(f"Unknown label policy {policy!r}; choose one of {', '.join(LabelPolicy.values)}.")
    options = {key: value for key, value in (options or {}).items() if value is not None}
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise ApplicationError(f"Unknown export options: {', '.join(sorted(unknown))}.")
    params = {"format": fmt, "policy": policy, **DEFAULTS, **options}
    try:
        params["min_agreement"] = float(params["min_agreement"])
        params["min_votes"] = int(params["min_votes"])
        params["seed"] = int(params["seed"])
    except (TypeError, ValueError) as error:
        raise ApplicationError("min_agreement must be a number, min_votes and seed whole numbers.") from error
    if not 0 < params["min_agreement"] <= 1:
        raise ApplicationError("min_agreement must be above 0 and at most 1 (a share of the votes).")
    if params["min_votes"] < 1:
        raise ApplicationError("min_votes must be at least 1.")
    if not 0 <= params["seed"] < 2**32:
        raise ApplicationError("seed must be between 0 and 4294967295.")
    for flag in ("include_flagged", "include_suggestions"):
        if not isinstance(params[flag], bool):
            raise ApplicationError(f"{flag} must be true or false.")
    if params["split"] not in (None, ""):
        try:
            params["split"] = list(parse_fractions(params["split"]))
        except ValueError as error:
            raise ApplicationError(str(error)) from error
    else:
        params["split"] = None
    return params


def export_create(
    *, dataset: Dataset, user: AbstractBaseUser | None, fmt: str, policy: str, options: dict[str, Any] | None = None
) -> Export:
    """Record the snapshot's parameters and queue its build in the worker once this transaction commits."""
    params = export_params_clean(fmt=fmt, policy=policy, options=options)
    export = Export.objects.create(dataset=dataset, format=fmt, policy=policy, params=params, created_by=user)
    from datasets.tasks import export_run_task

    transaction.on_commit(lambda: export_run_task.delay(export.pk))
    return export


# -- rows ------------------------------------------------------------------------------------------



def _price_sql() -> str:
    # Text straight from the database is exact and skips building a Decimal per row.
    if connection.vendor == "postgresql":
        return "p.price::text"
    return "CASE WHEN p.price IS NULL THEN NULL ELSE printf('%%.2f', p.price) END"


def _votes_sql() -> str:
    """Per task, its most voted label (review labels aside), the vote counts and whether any answer is flagged."""
    return f"""
    answers AS (
        SELECT task_id, label_id, COUNT(*) AS n, MAX(CASE WHEN flagged THEN 1 ELSE 0 END) AS flagged
        FROM labeling_annotation
        WHERE dataset_id = %(dataset)s AND status = '{AnnotationStatus.SUBMITTED}' AND source <> '{LabelSource.REVIEW}'
        GROUP BY task_id, label_id
    ),
    marked AS (
        SELECT task_id, label_id, n, MAX(flagged) OVER (PARTITION BY task_id) AS task_flagged FROM answers
    ),
    ranked AS (
        SELECT task_id, label_id, n, task_flagged,
               CAST(SUM(n) OVER whole AS BIGINT) AS total, COUNT(*) OVER whole AS distinct_labels,
               LEAD(n) OVER ordered AS runner_up, ROW_NUMBER() OVER ordered AS rn
        FROM marked WHERE label_id IS NOT NULL
        WINDOW whole AS (PARTITION BY task_id), ordered AS (PARTITION BY task_id ORDER BY n DESC, label_id)
    ),
    reviews AS (
        SELECT task_id, label_id,
               ROW_NUMBER() OVER (PARTITION BY task_id ORDER BY updated_at DESC, id DESC) AS rn
        FROM labeling_annotation
        WHERE dataset_id = %(dataset)s AND status = '{AnnotationStatus.SUBMITTED}' AND source = '{LabelSource.REVIEW}'
              AND label_id IS NOT NULL
    )"""  # noqa: S608


def _product_sql(with_product: bool) -> str:
    if not with_product:
        return ""
    price = _price_sql()
    return f", p.external_id, p.title, p.description, p.brand, {price}, p.currency, p.image_url, p.url, p.attributes"


# The f-string SQL below interpolates only constants and table or column names from the models;
# every value goes through query parameters.


def _voted_sql(*, with_product: bool, with_suggestions: bool) -> str:
    product = _product_sql(with_product)
    suggestions = ", t.suggestions" if with_suggestions else ""
    return f"""
    WITH {_votes_sql()}
    SELECT t.id, t.is_gold, t.gold_label_id, t.is_complete, rv.label_id, rk.label_id, rk.n, rk.total,
           rk.distinct_labels, rk.runner_up, rk.task_flagged{product}{suggestions}
    FROM labeling_task t
    JOIN datasets_product p ON p.id = t.product_id
    LEFT JOIN ranked rk ON rk.task_id = t.id AND rk.rn = 1
    LEFT JOIN reviews rv ON rv.task_id = t.id AND rv.rn = 1
    WHERE t.dataset_id = %(dataset)s
      AND (rk.label_id IS NOT NULL OR rv.label_id IS NOT NULL OR (t.is_gold AND t.gold_label_id IS NOT NULL))
    ORDER BY t.id"""  # noqa: S608


def _raw_sql(*, with_product: bool, with_suggestions: bool, include_flagged: bool) -> str:
    user_model = get_user_model()
    product = _product_sql(with_product)
    suggestions = ", t.suggestions" if with_suggestions else ""
    # A flagged answer may carry no label; it is only worth a row when flagged answers are asked for.
    flagged = "" if include_flagged else "AND a.label_id IS NOT NULL AND NOT a.flagged"
    return f"""
    SELECT t.id, t.is_gold, a.label_id, COALESCE(u.{user_model.USERNAME_FIELD}, a.source_name), a.source,
           a.flagged{product}{suggestions}
    FROM labeling_annotation a
    JOIN labeling_task t ON t.id = a.task_id
    JOIN datasets_product p ON p.id = t.product_id
    LEFT JOIN {user_model._meta.db_table} u ON u.id = a.user_id
    WHERE a.dataset_id = %(dataset)s AND a.status = '{AnnotationStatus.SUBMITTED}' {flagged}
    ORDER BY t.id, a.id"""  # noqa: S608


@dataclass(frozen=True, slots=True)
class _Choice:
    label_id: int
    votes: int | None
    agreement: float | None
    flagged: bool


def _choose(record: tuple, params: dict[str, Any]) -> _Choice | None:
    """The label a voted record exports under the policy, or None when it does not qualify.

    Gold items keep their known label and a lead's review overrides the votes; otherwise `final` takes
    labels every annotator agreed on once the task has all its annotations, and `majority` the most
    voted label when it is a strict winner with enough votes and a large enough share.
    """
    _, is_gold, gold_label, is_complete, review_label, top_label, top_n, total, distinct, runner_up, flagged = record[
        :11
    ]
    votes = int(top_n) if top_n is not None else None
    agreement = round(top_n / total, 4) if top_n else None
    if is_gold and gold_label is not None:
        return _Choice(gold_label, votes, agreement, False)
    if review_label is not None:
        return _Choice(review_label, votes, agreement, False)
    if top_label is None or (flagged and not params["include_flagged"]):
        return None
    if params["policy"] == LabelPolicy.FINAL:
        qualifies = distinct == 1 and is_complete
    else:
        qualifies = (
            top_n >= params["min_votes"]
            and top_n / total >= params["min_agreement"]
            and (runner_up is None or top_n > runner_up)
        )
    return _Choice(top_label, votes, agreement, bool(flagged)) if qualifies else None


def _json_value(value: Any) -> Any:
    # Django hands PostgreSQL jsonb back as text and SQLite stores text, so both arrive as str.
    return orjson.loads(value) if isinstance(value, str | bytes) else value


class _Reader:
    """Rows of one SQL query through a server-side cursor (PostgreSQL) inside one read transaction."""

    def __init__(self) -> None:
        # SQLite cursors stream without a transaction, and its atomic() would take the write lock.
        self._atomic = transaction.atomic() if connection.vendor == "postgresql" else None

    def __enter__(self) -> _Reader:
        if self._atomic is not None:
            outermost = not connection.in_atomic_block
            self._atomic.__enter__()
            if outermost:
                with connection.cursor() as cursor:
                    # Both passes of an export (split, then rows) see the same snapshot of the labels.
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._atomic is not None:
            self._atomic.__exit__(*exc)

    def rows(self, sql: str, params: dict[str, Any]) -> Iterator[tuple]:
        cursor = connection.chunked_cursor()
        try:
            cursor.execute(sql, params)
            while batch := cursor.fetchmany(FETCH_ROWS):
                yield from batch
        finally:
            cursor.close()


def _query_params(dataset: Dataset) -> dict[str, Any]:
    return {"dataset": dataset.pk}


def _split_codes(reader: _Reader, dataset: Dataset, params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Task ids (sorted) and their split codes, stratified by each task's exported (or most voted) label."""
    task_ids: list[int] = []
    strata: list[int] = []
    if params["policy"] == LabelPolicy.RAW:
        sql = _raw_sql(with_product=False, with_suggestions=False, include_flagged=params["include_flagged"])
        votes: Counter[int] = Counter()
        current = None
        for task_id, _, label_id, *_ in reader.rows(sql, _query_params(dataset)):
            if task_id != current and current is not None:
                task_ids.append(current)
                strata.append(_top(votes))
                votes.clear()
            current = task_id
            votes[label_id if label_id is not None else -1] += 1
        if current is not None:
            task_ids.append(current)
            strata.append(_top(votes))
    else:
        sql = _voted_sql(with_product=False, with_suggestions=False)
        for record in reader.rows(sql, _query_params(dataset)):
            choice = _choose(record, params)
            if choice is not None:
                task_ids.append(record[0])
                strata.append(choice.label_id)
    keys = np.asarray(task_ids, dtype=np.int64)
    codes = assign_splits(keys, np.asarray(strata, dtype=np.int64), tuple(params["split"]), params["seed"])
    return keys, codes


def _top(votes: Counter[int]) -> int:
    return min(votes.items(), key=lambda item: (-item[1], item[0]))[0]


def _suggestions(value: Any, labels: dict[int, tuple[str, str]]) -> list[dict[str, Any]]:
    return [
        {"label": labels[label_id][0], "label_id": label_id, "probability": probability}
        for label_id, probability in (_json_value(value) or [])
        if label_id in labels
    ]


def export_rows(
    *, dataset: Dataset, params: dict[str, Any], reader: _Reader, splits: tuple[np.ndarray, np.ndarray] | None = None
) -> Iterator[dict[str, Any]]:
    """The export's rows in task order (then annotation order for `raw`), as the writers take them."""
    label_rows = Label.objects.filter(dataset=dataset).values_list("pk", "path", "code")
    labels = {pk: (path, code) for pk, path, code in label_rows}
    raw = params["policy"] == LabelPolicy.RAW
    with_suggestions = params["include_suggestions"]
    include_flagged = params["include_flagged"]
    if raw:
        sql = _raw_sql(with_product=True, with_suggestions=with_suggestions, include_flagged=include_flagged)
        product_at = 6
    else:
        sql = _voted_sql(with_product=True, with_suggestions=with_suggestions)
        product_at = 11
    keys, codes = splits if splits is not None else (None, None)
    for record in reader.rows(sql, _query_params(dataset)):
        if raw:
            label_id, annotator, source, flagged = record[2:6]
            extra: dict[str, Any] = {"annotator": annotator, "source": source}
        else:
            choice = _choose(record, params)
            if choice is None:
                continue
            label_id, flagged = choice.label_id, choice.flagged
            extra = {"votes": choice.votes, "agreement": choice.agreement}
        path, code = labels.get(label_id, (None, "")) if label_id is not None else (None, "")
        product = record[product_at : product_at + 9]
        row = dict(zip(PRODUCT_COLUMNS, product[:8], strict=True))
        row.update(label=path, label_id=label_id, label_code=code, split=None, gold=bool(record[1]), **extra)
        if include_flagged:
            row["flagged"] = bool(flagged)
        row["attributes"] = _json_value(product[8]) or {}
        if with_suggestions:
            row["suggestions"] = _suggestions(record[product_at + 9], labels)
        if keys is not None:
            index = int(np.searchsorted(keys, record[0]))
            # A task labeled between the two passes (SQLite has no snapshot across them) trains.
            found = index < len(keys) and keys[index] == record[0]
            row["split"] = SPLIT_NAMES[codes[index]] if found else SPLIT_NAMES[0]
        yield row


def export_estimate(*, dataset: Dataset, params: dict[str, Any]) -> int:
    """About how many rows the export holds, for its progress bar (exact counts would cost a second pass)."""
    submitted = Annotation.objects.filter(dataset=dataset, status=AnnotationStatus.SUBMITTED)
    if params["policy"] == LabelPolicy.RAW:
        return submitted.count()
    return Task.objects.filter(Q(annotation_count__gt=0) | Q(is_gold=True), dataset=dataset).count()


def _labels_in_use(dataset: Dataset) -> list[str]:
    """Every label an export of this dataset can carry: spaCy's exclusive `cats` list them all on each doc."""
    used = set(Annotation.objects.filter(dataset=dataset, label__isnull=False).values_list("label_id", flat=True))
    used |= set(Task.objects.filter(dataset=dataset, gold_label__isnull=False).values_list("gold_label_id", flat=True))
    return list(Label.objects.filter(pk__in=used).values_list("path", flat=True))


# -- writing ---------------------------------------------------------------------------------------


class _HashingWriter:
    """A binary file that hashes and counts what goes through it, so the file is read once: while written."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.closed = False

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self._file.write(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        self._file.flush()

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        # pyarrow closes the sink it is given; the real file is closed by its owner.
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
    split_counts: dict[str, int]


def export_write(
    *, dataset: Dataset, params: dict[str, Any], out: BinaryIO, on_progress: Callable[[int], None] | None = None
) -> ExportResult:
    """Write one export to the binary file `out`. Used by snapshots and by the export_dataset command."""
    writer = _HashingWriter(out)
    split_counts: Counter[str] = Counter()
    with _Reader() as reader:
        splits = _split_codes(reader, dataset, params) if params["split"] else None
        rows = export_rows(dataset=dataset, params=params, reader=reader, splits=splits)

        def counted() -> Iterator[dict[str, Any]]:
            for done, row in enumerate(rows, start=1):
                if row["split"]:
                    split_counts[row["split"]] += 1
                if on_progress is not None and done % PROGRESS_EVERY == 0:
                    on_progress(done)
                yield row

        labels = _labels_in_use(dataset) if params["format"] == ExportFormat.SPACY else None
        count = write_export(counted(), writer, fmt=params["format"], labels=labels)
    return ExportResult(count, writer.size, writer.sha256.hexdigest(), dict(sorted(split_counts.items())))


class _ProgressWriter:
    """Writes an export's progress where other connections see it while the build's own transaction is open."""

    def __init__(self, export_id: int) -> None:
        self._export_id = export_id
        # PostgreSQL reads the rows in one transaction: progress needs a connection of its own to be seen.
        self._own = connections.create_connection(DEFAULT_DB_ALIAS) if connection.vendor == "postgresql" else None

    def __call__(self, rows_done: int) -> None:
        db = self._own or connection
        with db.cursor() as cursor:
            cursor.execute("UPDATE datasets_export SET rows_done = %s WHERE id = %s", [rows_done, self._export_id])

    def close(self) -> None:
        if self._own is not None:
            self._own.close()


def _storage_name(export: Export) -> str:
    slug = slugify(export.dataset.name)[:60] or "dataset"
    return f"exports/{export.dataset_id}/{slug}-{export.pk}-{export.policy}.{EXTENSIONS[export.format]}"


def export_run(*, export_id: int) -> Export:
    """Build a queued snapshot. Safe to run twice: a finished export is left as it is, a crashed one restarts."""
    with transaction.atomic():
        export = Export.objects.select_for_update(of=("self",)).select_related("dataset").get(pk=export_id)
        if export.is_finished:
            return export
        export.status = ExportStatus.RUNNING
        export.started_at = timezone.now()
        export.rows_done = 0
        export.rows_total = export_estimate(dataset=export.dataset, params=export.params)
        export.save(update_fields=["status", "started_at", "rows_done", "rows_total"])
    progress = _ProgressWriter(export.pk)
    temporary = tempfile.NamedTemporaryFile(  # noqa: SIM115 - moved into storage below, or removed on failure
        dir=settings.FILE_UPLOAD_TEMP_DIR, prefix=f"export-{export.pk}-", delete=False
    )
    try:
        with temporary:
            result = export_write(dataset=export.dataset, params=export.params, out=temporary, on_progress=progress)
        with open(temporary.name, "rb") as finished:
            name = default_storage.save(_storage_name(export), _TemporaryFile(finished))
    except Exception:
        logger.exception("export %s failed", export.pk)
        Export.objects.filter(pk=export.pk).update(
            status=ExportStatus.FAILED, message="The export stopped on an unexpected error.", finished_at=timezone.now()
        )
        raise
    finally:
        progress.close()
        if os.path.exists(temporary.name):
            os.unlink(temporary.name)
    Export.objects.filter(pk=export.pk).update(
        status=ExportStatus.SUCCEEDED,
        file=name,
        filename=os.path.basename(name),
        row_count=result.rows,
        rows_done=result.rows,
        size_bytes=result.size,
        sha256=result.sha256,
        split_counts=result.split_counts,
        message=f"{result.rows} rows.",
        finished_at=timezone.now(),
    )
    export.refresh_from_db()
    return export
