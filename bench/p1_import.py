"""P1: import N products from CSV through Shelfmark's pipeline vs `psql \\copy` of the same file, same run.

Order: copy, import, copy again; the copy rate is the mean of both copies (one cold, one warm cache).
The import is `manage.py import_products` in a subprocess (the real pipeline, run inline) on a fresh
dataset; it is stopped after P1_TIMEOUT seconds (default 900) and then reported from its progress.
Then the schema's floor: the plain import's products and tasks exported, their tables emptied, and the rows COPYed
back by psql with every index, constraint and trigger of the tables (no parsing, no validation, no ids to draw):
the least any import of these rows into Shelfmark's tables can cost. The tables are emptied again after it, so
that each import and the floor start from empty tables.
Then the same file again into another fresh dataset whose taxonomy holds the file's categories, with its
`category` column imported as labels (`--label-column category`): its rate against the plain import's.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import time
from pathlib import Path

from bench.common import DATA_DIR, PYTHON, ROOT, BenchError, django_env, env_int, log, psql, psql_command

COPY_TABLE = "bench_copy_products"
COPY_DDL = f"""
DROP TABLE IF EXISTS {COPY_TABLE};
CREATE TABLE {COPY_TABLE} (
    id bigserial PRIMARY KEY, external_id text NOT NULL, title text NOT NULL, brand text, price numeric(14, 2),
    currency text, merchant text, category text
);
CREATE UNIQUE INDEX {COPY_TABLE}_external_id ON {COPY_TABLE} (external_id);
"""
TARGET_RATIO = 0.5
LABEL_TARGET_RATIO = 0.5  # a labeled import's rate against the plain one's
LABEL_COLUMN = "category"


def _copy(path: Path) -> dict[str, float | int]:
    """One timed `psql \\copy` into an empty equivalent table (wall clock of the psql process)."""
    psql(COPY_DDL)
    quoted = str(path).replace("'", "''")
    columns = "external_id, title, brand, price, currency, merchant, category"
    argv, env = psql_command(f"\\copy {COPY_TABLE} ({columns}) FROM '{quoted}' WITH (FORMAT csv, HEADER true)")
    argv.remove("-q")  # keep the "COPY n" line
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=3600, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchError(f"psql \\copy failed: {done.stderr.strip()}")
    match = re.search(r"COPY (\d+)", done.stdout)
    rows = int(match.group(1)) if match else 0
    log(f"psql \\copy: {rows:,} rows in {seconds:.2f} s ({rows / seconds:,.0f} rows/s)")
    return {"seconds": round(seconds, 3), "rows": rows, "rows_per_s": round(rows / seconds, 1)}


_FLOOR_TABLES = {
    "datasets_product": "id, dataset_id, external_id, title, description, brand, price, currency, image_url, url, "
    "attributes, created_at, updated_at",
    "labeling_task": "id, dataset_id, product_id, is_gold, annotation_count, is_complete, priority, random_key, "
    "created_at",
}


def _floor(dataset_id: int, rows: int) -> dict[str, float | int]:
    """The plain import's products and tasks COPYed back into their emptied tables by one psql process (wall clock,
    both COPYs); the tables are emptied again after it."""
    files = {table: DATA_DIR / f"floor_{table}.copy" for table in _FLOOR_TABLES}
    for table, columns in _FLOOR_TABLES.items():
        query = f"SELECT {columns} FROM {table} WHERE dataset_id = {dataset_id} ORDER BY id"  # noqa: S608
        psql(f"\\copy ({query}) TO '{files[table]}'")
    emptied = "TRUNCATE datasets_product, labeling_task CASCADE"
    psql(emptied)
    argv, env = psql_command(emptied)
    argv = [*argv[:-2], "-c", "\\timing on"]  # one process, a -c for each COPY: each its own transaction
    for table, columns in _FLOOR_TABLES.items():
        argv += ["-c", f"\\copy {table} ({columns}) FROM '{files[table]}'"]
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=3600, check=False)
    seconds = time.perf_counter() - started
    psql(emptied)
    for file in files.values():
        file.unlink(missing_ok=True)
    if done.returncode != 0:
        raise BenchError(f"the floor's psql \\copy failed: {done.stderr.strip()}")
    log(f"floor (products and tasks by psql \\copy): {rows:,} rows in {seconds:.2f} s ({rows / seconds:,.0f} rows/s)")
    # Each COPY's own time, as psql's \timing prints it: the products' alone is the most an import could reach
    # that wrote no task rows at all (tasks made lazily).
    times = [float(ms) / 1000 for ms in re.findall(r"^Time: ([0-9.]+) ms", done.stdout, flags=re.MULTILINE)]
    parts = dict(zip(_FLOOR_TABLES, times, strict=True)) if len(times) == len(_FLOOR_TABLES) else {}
    products = parts.get("datasets_product")
    return {
        "seconds": round(seconds, 3),
        "rows": rows,
        "rows_per_s": round(rows / seconds, 1),
        "table_seconds": {table: round(part, 3) for table, part in parts.items()},
        "products_rows_per_s": round(rows / products, 1) if products else None,
    }


def _new_dataset(count: int, labels_from: Path | None = None) -> int:
    """A fresh dataset; with `labels_from`, its taxonomy holds every value of that file's category column."""
    from datasets.importers import split_path
    from datasets.importers.taxonomy import TaxonomyRow
    from datasets.models import Dataset
    from datasets.services.taxonomy import taxonomy_upsert

    dataset = Dataset.objects.create(name=f"bench import {count:,} ({time.strftime('%H:%M:%S')})")
    if labels_from is not None:
        with labels_from.open(newline="", encoding="utf-8") as handle:
            values = {row[LABEL_COLUMN] for row in csv.DictReader(handle) if row[LABEL_COLUMN].strip()}
        rows = [TaxonomyRow(line, "", tuple(split_path(value))) for line, value in enumerate(sorted(values), 2)]
        taxonomy_upsert(dataset=dataset, rows=rows)
    return dataset.pk


def _job_times(dataset_id: int) -> dict[str, object]:
    """What the import job recorded: progress and its own timings (the command's wall clock also has startup)."""
    from workspace.models import ImportJob

    job = ImportJob.objects.filter(dataset_id=dataset_id).order_by("-id").first()
    if job is None:
        return {}
    times = {
        "job_status": job.status,
        "records_done": job.records_done,
        "created": job.created_count,
        "rejected": job.error_count,
    }
    if job.started_at:
        times["store_file_seconds"] = round((job.started_at - job.created_at).total_seconds(), 3)
        if job.finished_at:
            times["job_run_seconds"] = round((job.finished_at - job.started_at).total_seconds(), 3)
    return times


def _import(path: Path, rows: int, timeout: int, *, labeled: bool = False) -> dict[str, object]:
    dataset_id = _new_dataset(rows, labels_from=path if labeled else None)
    argv = [PYTHON, "manage.py", "import_products", "--dataset", str(dataset_id), str(path)]
    if labeled:
        argv += ["--label-column", LABEL_COLUMN]
    log(f"import_products{' with labels' if labeled else ''} into dataset {dataset_id} (stopped after {timeout} s)")
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=ROOT, env=django_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        out, err = process.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        timed_out = True
    finally:
        if process.poll() is None:  # interrupted: never leave the import running
            process.kill()
            process.wait()
    seconds = time.perf_counter() - started
    result: dict[str, object] = {"dataset_id": dataset_id, "seconds": round(seconds, 3), "timed_out": timed_out}
    result.update(_job_times(dataset_id))
    if timed_out:
        done = int(result.get("records_done") or 0)
        result["rows_per_s"] = round(done / seconds, 1)
        result["estimated_total_seconds"] = round(seconds * rows / done, 1) if done else None
        log(f"import stopped after {seconds:.0f} s at {done:,} of {rows:,} rows: {result['rows_per_s']:,} rows/s")
        return result
    if process.returncode != 0:
        raise BenchError(f"import_products failed ({process.returncode}):\n{out[-2000:]}\n{err[-4000:]}")
    summary = json.loads(out.strip().splitlines()[-1])
    result.update({"summary": summary, "created": summary["created"], "rejected": summary["rejected"],
                   "labels": summary["labels"]})
    result["rows_per_s"] = round(rows / seconds, 1)
    if result.get("job_run_seconds"):
        result["rows_per_s_job_only"] = round(rows / result["job_run_seconds"], 1)
    log(f"import: {summary['created']:,} created, {summary['rejected']:,} rejected in {seconds:.2f} s "
        f"({result['rows_per_s']:,} rows/s)")
    return result


def run(path: Path, rows: int) -> dict[str, object]:
    timeout = env_int("P1_TIMEOUT", 900)
    first = _copy(path)
    shelfmark = _import(path, rows, timeout)
    second = _copy(path)
    psql(f"DROP TABLE IF EXISTS {COPY_TABLE}")
    floor = None if shelfmark["timed_out"] else _floor(shelfmark["dataset_id"], rows)
    labeled = _import(path, rows, timeout, labeled=True)
    copy_rate = (first["rows_per_s"] + second["rows_per_s"]) / 2
    ratio = shelfmark["rows_per_s"] / copy_rate if copy_rate else None
    floor_rate = floor["rows_per_s"] if floor else None
    label_ratio = labeled["rows_per_s"] / shelfmark["rows_per_s"] if shelfmark["rows_per_s"] else None
    return {
        "rows": rows,
        "file": str(path),
        "copy_runs": [first, second],
        "copy_rows_per_s": round(copy_rate, 1),
        "import": shelfmark,
        "import_rows_per_s": shelfmark["rows_per_s"],
        "ratio": round(ratio, 4) if ratio is not None else None,
        "target_ratio": TARGET_RATIO,
        "pass": bool(ratio is not None and ratio >= TARGET_RATIO and not shelfmark["timed_out"]),
        "floor": floor,
        "floor_ratio": round(floor_rate / copy_rate, 4) if floor_rate and copy_rate else None,
        "products_floor_ratio": (
            round(floor["products_rows_per_s"] / copy_rate, 4) if floor and floor.get("products_rows_per_s") else None
        ),
        "import_floor_ratio": round(shelfmark["rows_per_s"] / floor_rate, 4) if floor_rate else None,
        "labeled_import": labeled,
        "label_ratio": round(label_ratio, 4) if label_ratio is not None else None,
        "label_target_ratio": LABEL_TARGET_RATIO,
        "label_pass": bool(
            label_ratio is not None and label_ratio >= LABEL_TARGET_RATIO
            and not labeled["timed_out"] and not shelfmark["timed_out"]
        ),
    }
