"""P4: export every labeled product as JSONL through the snapshot service the worker runs.

Setup (not measured): the scaled catalog loaded with COPY (as P2 does) and one human annotation per
product, its category, spread over 16 annotators. The export runs in a child process, so its peak
resident memory (VmHWM) is the export's alone and not the setup's.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from bench.common import PYTHON, ROOT, BenchError, django_env, log

ROWS_PER_SECOND = 100_000
PEAK_MB = 300

LABEL_ALL = """
INSERT INTO labeling_annotation (dataset_id, task_id, user_id, status, label_id, flagged, source, source_name,
                                 suggestions_shown, created_at, updated_at)
SELECT t.dataset_id, t.id, (%(users)s::bigint[])[1 + t.id %% cardinality(%(users)s::bigint[])], 'submitted', l.id,
       false, 'human', '', false, now(), now()
FROM labeling_task t
JOIN datasets_product p ON p.id = t.product_id
JOIN datasets_label l ON l.dataset_id = t.dataset_id AND l.name = p.attributes->>'category'
WHERE t.dataset_id = %(dataset)s
"""
COMPLETE = """
UPDATE labeling_task t SET annotation_count = 1, is_complete = true
WHERE t.dataset_id = %(dataset)s AND EXISTS (SELECT 1 FROM labeling_annotation a WHERE a.task_id = t.id)
"""

# Runs in the child: Django set up on the bench database, then one snapshot built as the worker builds it.
CHILD = """
import json, sys, time
import django


def high_water_mb():
    # VmHWM, not ru_maxrss: after fork and exec, ru_maxrss keeps the parent's peak (the bench process's).
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


django.setup()
from workspace.models import Export
from workspace.services.export_params import export_params_clean
from workspace.services.exports import export_run
from django.db import connection

baseline_mb = high_water_mb()
connection.ensure_connection()
params = export_params_clean(fmt=sys.argv[2], policy="final", options={"split": sys.argv[3] or None, "seed": 7})
export = Export.objects.create(dataset_id=int(sys.argv[1]), format=params["format"], policy="final", params=params)
started = time.perf_counter()
export = export_run(export_id=export.pk)
seconds = time.perf_counter() - started
print(json.dumps({
    "status": export.status, "rows": export.row_count, "bytes": export.size_bytes, "sha256": export.sha256,
    "seconds": seconds, "baseline_mb": baseline_mb, "peak_mb": high_water_mb(), "split_counts": export.split_counts,
}))
"""


def label_everything(dataset_id: int, users: list) -> int:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(LABEL_ALL, {"dataset": dataset_id, "users": [user.pk for user in users]})
        labeled = cursor.rowcount
        cursor.execute(COMPLETE, {"dataset": dataset_id})
        cursor.execute("VACUUM (ANALYZE) labeling_annotation, labeling_task")
        cursor.execute("CHECKPOINT")
    log(f"labeled {labeled:,} products in {time.perf_counter() - started:.1f} s")
    return labeled


def export_once(dataset_id: int, fmt: str, split: str = "") -> dict:
    done = subprocess.run(
        [PYTHON, "-c", CHILD, str(dataset_id), fmt, split],
        cwd=ROOT, env=django_env(), capture_output=True, text=True, timeout=1800, check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"the export child failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["status"] != "succeeded":
        raise BenchError(f"the export ended {result['status']}")
    result["rows_per_s"] = result["rows"] / result["seconds"]
    return result


def run(path: Path, scale: int) -> dict:
    from bench import p2_setup

    p2_setup.reset()
    users = p2_setup.annotators()
    setup = p2_setup.load_dataset(path, users)
    labeled = label_everything(setup.dataset_id, users)
    jsonl = export_once(setup.dataset_id, "jsonl")
    log(f"P4: {jsonl['rows']:,} rows in {jsonl['seconds']:.1f} s = {jsonl['rows_per_s']:,.0f} rows/s, "
        f"peak {jsonl['peak_mb']:.0f} MB")
    # The same export with a stratified split: the split pass holds two arrays of one int per row.
    split = export_once(setup.dataset_id, "jsonl", "0.8,0.1,0.1")
    log(f"P4 with split: {split['rows_per_s']:,.0f} rows/s, peak {split['peak_mb']:.0f} MB")
    return {
        "products": setup.products,
        "labeled": labeled,
        "jsonl": jsonl,
        "jsonl_split": split,
        "target_rows_per_s": ROWS_PER_SECOND,
        "target_peak_mb": PEAK_MB,
        "pass": jsonl["rows"] >= labeled * 0.99
        and jsonl["rows_per_s"] >= ROWS_PER_SECOND
        and jsonl["peak_mb"] < PEAK_MB,
    }
