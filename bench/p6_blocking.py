"""P6: candidate pairs (blocking) for SCALE products of a matching dataset, written as tasks.

Setup (not measured): the scaled catalog loaded with COPY into a matching dataset (one source, so this is
deduplication), as P2 loads it. Measured in a child process, so its peak resident memory is the run's and
not the setup's: the candidate generation the worker runs, `candidates_generate` when the matching kind
has it, else its parts called directly (read the products, `blocking.candidate_pairs`, `pair_tasks_insert`).
Each part's seconds and the peak RSS (VmHWM, reset between parts through /proc/self/clear_refs) are kept.

Quality against the generator's truth: every scaled row repeats one base title (`bench.data`: the base's
position is in the external id), so products with the same base position are the same product. Pair
completeness = candidates joining two such products / all such pairs; reduction ratio = 1 - candidates /
(n (n - 1) / 2). With ~28 copies per base title at 1M rows a product has ~27 true matches, so k=10
neighbours cannot find them all: completeness is bounded well below 1 by design of the catalog.
"""

from __future__ import annotations

import io
import json
import os
import re
import resource
import subprocess
import time
from pathlib import Path

import numpy as np

from bench.common import PYTHON, ROOT, BenchError, django_env, env_int, log

TARGET_SECONDS = 300.0
TARGET_PEAK_MB = 2048.0
K = 10

_POSITION = (
    re.compile(r"PR(\d{6})-\d{3}"),
    re.compile(r"SKU-\d{3}-(\d{6})"),
    re.compile(r"\d{4}(\d{7})"),
)


def base_position(external_id: str) -> int:
    """The base title's position in the source, from the four id shapes of `bench.data._external_id`."""
    for pattern in _POSITION:
        match = pattern.fullmatch(external_id)
        if match:
            return int(match.group(1))
    match = re.fullmatch(r"m([0-9a-f]+)\.\d+", external_id)
    if match is None:
        raise BenchError(f"not a bench catalog id: {external_id!r}")
    return int(match.group(1), 16)


def load(path: Path) -> int:
    """A matching dataset holding every row of `path` as a product (no tasks); returns its id."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from bench import p2_setup
    from workspace.services.datasets import dataset_create

    p2_setup.reset()
    started = time.perf_counter()
    user = get_user_model().objects.create(username="bench-lead")
    with transaction.atomic():
        dataset = dataset_create(user=user, name=f"bench blocking {path.stem}", task_type="matching")
        with connection.cursor() as cursor, path.open("rb") as handle:
            p2_setup.copy_products(cursor, dataset.pk, handle)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) datasets_product")
        cursor.execute("CHECKPOINT")
    log(f"loaded matching dataset {dataset.pk} from {path.name} in {time.perf_counter() - started:.1f} s")
    return dataset.pk


# --- the child: what the worker runs, timed part by part -------------------------------------------------


def _high_water_mb() -> float:
    # VmHWM, not ru_maxrss: after fork and exec, ru_maxrss keeps the parent's peak.
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def _reset_high_water() -> None:
    with open("/proc/self/clear_refs", "w") as refs:  # "5" resets VmHWM to the current RSS (Linux)
        refs.write("5")


def child(dataset_id: int, k: int) -> dict:
    import django

    django.setup()
    from datasets.models import Dataset

    baseline_mb = _high_water_mb()
    dataset = Dataset.objects.get(pk=dataset_id)
    try:
        from labeling.kinds.matching.candidates import candidates_generate
    except ImportError:
        candidates_generate = None
    if candidates_generate is not None:
        measured = {"path": "candidates_generate", **_service(dataset, k, candidates_generate)}
    else:
        measured = {"path": "parts (no candidates_generate yet)", **_parts(dataset, k)}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # The CPU seconds of this process (not the database's): on a shared machine wall time also counts the others.
    return {**measured, "baseline_mb": baseline_mb, "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "load": " ".join(f"{value:.1f}" for value in os.getloadavg())}


def _service(dataset, k: int, candidates_generate) -> dict:
    from labeling.kinds.matching.blocking import BlockingConfig

    phases: dict[str, list[float]] = {}  # phase -> [first seen, last seen] seconds since the start
    started = time.perf_counter()

    def progress(phase: str, fraction: float) -> None:
        now = time.perf_counter() - started
        phases.setdefault(phase, [now, now])[1] = now

    result = candidates_generate(dataset=dataset, config=BlockingConfig(k=k), progress=progress, check=lambda: None)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "peak_mb": _high_water_mb(),
        "result": json.loads(json.dumps(result, default=str)),
        "phases": {name: [round(a, 2), round(b, 2)] for name, (a, b) in phases.items()},
    }


def _parts(dataset, k: int) -> dict:
    from datasets.models import Product
    from labeling.kinds.matching.blocking import BlockingConfig, candidate_pairs
    from labeling.kinds.matching.tasks import pair_tasks_insert

    parts: dict[str, dict] = {}
    started = time.perf_counter()

    def part(name: str, since: float) -> float:
        now = time.perf_counter()
        parts[name] = {"seconds": round(now - since, 2), "peak_mb": round(_high_water_mb(), 1)}
        _reset_high_water()
        return now

    ids, records = [], []
    rows = Product.objects.filter(dataset=dataset).order_by("pk").values_list(
        "pk", "title", "brand", "description", "attributes"
    )
    for pk, title, brand, description, attributes in rows.iterator(chunk_size=20_000):
        ids.append(pk)
        records.append({"title": title, "brand": brand, "description": description, "attributes": attributes})
    ids_array = np.asarray(ids, dtype=np.int64)
    del ids
    mark = part("read_products", started)
    candidates = candidate_pairs(records, BlockingConfig(k=k))
    del records
    mark = part("blocking", mark)
    created = pair_tasks_insert(
        dataset=dataset, left_ids=ids_array[candidates.left], right_ids=ids_array[candidates.right]
    )
    part("write_tasks", mark)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "peak_mb": max(entry["peak_mb"] for entry in parts.values()),
        "parts": parts,
        "tasks_created": created,
        "stats": dict(candidates.stats),
    }


def measure(dataset_id: int, k: int) -> dict:
    code = "import json, sys; from bench.p6_blocking import child; print(json.dumps(child(*map(int, sys.argv[1:]))))"
    done = subprocess.run(
        [PYTHON, "-c", code, str(dataset_id), str(k)],
        cwd=ROOT, env=django_env(), capture_output=True, text=True, timeout=3600, check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"the blocking child failed ({done.returncode}): {done.stderr.strip()[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- quality: the candidates written, against the generator's truth ------------------------------------


def quality(dataset_id: int) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id, external_id FROM datasets_product WHERE dataset_id = %s", [dataset_id])
        products = cursor.fetchall()
        ids = np.fromiter((pk for pk, _ in products), dtype=np.int64, count=len(products))
        positions = np.fromiter((base_position(eid) for _, eid in products), dtype=np.int64, count=len(products))
        del products
        buffer = io.StringIO()
        cursor.cursor.copy_expert(
            f"""COPY (SELECT t.product_id, t.other_product_id FROM labeling_task t
                WHERE t.dataset_id = {int(dataset_id)}) TO STDOUT""",  # noqa: S608 - an int
            buffer,
        )
    pairs = np.array(buffer.getvalue().split(), dtype=np.int64).reshape(-1, 2)
    del buffer
    position_of = np.zeros(int(ids.max()) + 1, dtype=np.int64)
    position_of[ids] = positions
    found = int((position_of[pairs[:, 0]] == position_of[pairs[:, 1]]).sum())
    counts = np.bincount(positions)
    true_pairs = int((counts * (counts - 1) // 2).sum())
    n = len(ids)
    possible = n * (n - 1) // 2
    return {
        "products": n,
        "candidates": len(pairs),
        "true_pairs": true_pairs,
        "true_pairs_found": found,
        "pair_completeness": found / true_pairs if true_pairs else None,
        "reduction_ratio": 1 - len(pairs) / possible if possible else None,
        "candidate_precision": found / len(pairs) if len(pairs) else None,
        "base_titles": int((counts > 0).sum()),
    }


def run(path: Path, scale: int) -> dict:
    k = env_int("P6_K", K)
    dataset_id = load(path)
    log(f"P6: candidates for {scale:,} products at k={k} (child process)")
    measured = measure(dataset_id, k)
    log(f"P6: {measured['seconds']:.1f} s, peak {measured['peak_mb']:.0f} MB ({measured['path']})")
    figures = quality(dataset_id)
    completeness = figures["pair_completeness"]
    # None when the sample holds no true pair (a small SCALE): nothing to find, not a failure.
    shown = "-" if completeness is None else f"{completeness:.3f}"
    log(f"P6: {figures['candidates']:,} candidates, pair completeness {shown}, "
        f"reduction ratio {figures['reduction_ratio']:.6f}")
    return {
        "products": scale,
        "k": k,
        **measured,
        "quality": figures,
        "target_seconds": TARGET_SECONDS,
        "target_peak_mb": TARGET_PEAK_MB,
        "pass": measured["seconds"] < TARGET_SECONDS and measured["peak_mb"] < TARGET_PEAK_MB,
    }
