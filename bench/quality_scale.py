"""The quality report at a million products: `python -m bench.quality_scale` (SCALE, default 1,000,000).

Not an S10 target, but the quality issue asks that the dashboard's aggregations stay fast at a million
products. Setup (not measured): the scaled catalog loaded as P2 does, every product answered once with
its category by one of 16 annotators, and a second answer on 30% of them from another annotator, wrong
one time in ten. Measured in a child process: `quality_report_run`, as the worker runs it (seconds and
peak memory). Writes bench/results/quality_scale.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from bench import data
from bench.common import (
    PYTHON,
    RESULTS_DIR,
    ROOT,
    BenchError,
    check_server,
    django_env,
    django_setup,
    env_int,
    log,
    recreate_database,
)

SECOND_ANSWERS = """
INSERT INTO labeling_annotation (dataset_id, task_id, user_id, status, label_id, flagged, source, source_name,
                                 suggestions_shown, active_seconds, created_at, updated_at)
SELECT a.dataset_id, a.task_id, (%(users)s::bigint[])[1 + (a.task_id + 7) %% cardinality(%(users)s::bigint[])],
       'submitted',
       CASE WHEN a.task_id %% 30 = 0 THEN (SELECT min(l.id) FROM datasets_label l
                                          WHERE l.dataset_id = a.dataset_id AND l.id <> a.label_id)
            ELSE a.label_id END,
       false, 'human', '', false, 4 + (a.task_id %% 7), now(), now()
FROM labeling_annotation a
WHERE a.dataset_id = %(dataset)s AND a.task_id %% 10 < 3
"""

CHILD = """
import json, sys, time
import django


def high_water_mb():
    # VmHWM, not ru_maxrss: after fork and exec, ru_maxrss keeps the parent's peak (the bench process's).
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


django.setup()
from datasets.models import Dataset
from labeling.quality.report import quality_report_request, quality_report_run

dataset = Dataset.objects.get(pk=int(sys.argv[1]))
started = time.perf_counter()
report = quality_report_run(report_id=quality_report_request(dataset=dataset, user=None, enqueue=False).pk)
figures = report.figures
print(json.dumps({
    "status": report.status, "seconds": time.perf_counter() - started,
    "peak_mb": high_water_mb(),
    "answers": figures["answers"], "items_with_overlap": figures["items_with_overlap"],
    "percent_agreement": figures["percent_agreement"], "fleiss": figures["fleiss"], "alpha": figures["alpha"],
    "annotators": len(figures["annotators"]),
}))
"""


def main() -> int:
    scale = env_int("SCALE", 1_000_000)
    try:
        check_server()
    except BenchError as error:
        print(f"quality_scale: {error}", file=sys.stderr)
        return 1
    path = data.catalog(scale)
    log(f"recreating and migrating the bench database ({recreate_database():.1f} s)")
    django_setup()
    from django.db import connection

    from bench import p2_setup, p4_export

    users = p2_setup.annotators()
    setup = p2_setup.load_dataset(path, users)
    p4_export.label_everything(setup.dataset_id, users)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(SECOND_ANSWERS, {"dataset": setup.dataset_id, "users": [user.pk for user in users]})
        cursor.execute("VACUUM (ANALYZE) labeling_annotation")
    log(f"second answers on 30% of the products in {time.perf_counter() - started:.1f} s")
    done = subprocess.run([PYTHON, "-c", CHILD, str(setup.dataset_id)], cwd=ROOT, env=django_env(),
                          capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        return 1
    result = {"products": setup.products, **json.loads(done.stdout.strip().splitlines()[-1])}
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "quality_scale.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    log(f"quality report over {result['answers']:,} answers in {result['seconds']:.1f} s, "
        f"peak {result['peak_mb']:.0f} MB; wrote bench/results/quality_scale.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
