"""P12 (issue 16): next + submit latency while a training run trains and rescores, on the embedded default (a SQLite
file, the filesystem broker, a Celery worker process beside the server: what `make run` starts) and on PostgreSQL
(Redis as the broker).

Per database: a dataset of P12_PRODUCTS products (100,000 by default on SQLite, SCALE on PostgreSQL) with LABELS
labeled, a gunicorn server and a real Celery worker (one process, concurrency 1), both on that database. Annotator
threads (HTTP, keep-alive, as P2) loop next, think, submit for BEFORE seconds; then a training run is requested (as
the Train button does) and runs in the worker: it featurizes the catalog, trains, and rescores every open task;
the annotators go on until AFTER seconds past its end. Each request is timed and stamped, and counted "during" when
it started between the run's start and its end (polled every 0.1 s), "outside" otherwise.

The SQLite database is its own file (bench/data/p12.sqlite3) and its broker its own folder: the other benchmarks
refuse SQLite, this one is about it. Run alone with `python -m bench.p12_submit_during_training` (BENCH_DB for the
PostgreSQL half, P12_BACKENDS=sqlite or postgresql for one of them), or as `ONLY=p2t make bench`.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import data
from bench.common import (
    DATA_DIR,
    PYTHON,
    ROOT,
    BenchError,
    database_url,
    django_env,
    env_float,
    env_int,
    latency_summary,
    log,
)
from bench.p2_queue import Annotator, Recorder
from bench.p2_setup import Server, category_answer

SQLITE_PRODUCTS = 100_000
LABELS = 2_000
ANNOTATORS = 4
THINK = 0.2
BEFORE = 10.0
WARMUP = 3.0  # the first seconds of requests (new connections, cold caches) are not counted
AFTER = 10.0
TARGET_P99_MS = 300.0
CELERY = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "celery"


def environment(backend: str) -> dict[str, str]:
    """The bench's Django environment on `backend`'s database and broker."""
    env = django_env()
    if backend == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{DATA_DIR / 'p12.sqlite3'}"
        env["CELERY_BROKER_URL"] = "filesystem://"
        env["BROKER_DIR"] = str(DATA_DIR / "p12-broker")
    else:
        env["DATABASE_URL"] = database_url()
        env["CELERY_BROKER_URL"] = os.environ.get("P12_BROKER", "redis://127.0.0.1:6379/0")
    env["JOB_SWEEP_SECONDS"] = "0"  # no sweeper: one run, watched here
    return env


def _manage(env: dict[str, str], *argv: str, timeout: float = 1800) -> str:
    done = subprocess.run([PYTHON, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)
    if done.returncode != 0:
        raise BenchError(f"{' '.join(argv[:3])} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.stdout


def _fresh_sqlite() -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DATA_DIR / 'p12.sqlite3'}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(DATA_DIR / "p12-broker", ignore_errors=True)


# --- run in a subprocess on the chosen database (`python -m bench.p12_submit_during_training setup|train ...`) ---

def _setup(path: Path, products: int) -> dict:
    """A dataset of the catalog's first `products` rows, each a product with an open task, LABELS of them answered
    with their category (bulk ORM writes: portable to both databases); the annotators' tokens."""
    from django.db import transaction
    from rest_framework.authtoken.models import Token

    from bench.p2_setup import annotators
    from datasets.models import Dataset, Label, Membership, Product, Role
    from labeling.models import Annotation, Task
    from labeling.queue import random_key

    users = annotators()
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:products]
    with transaction.atomic():
        dataset = Dataset.objects.create(name="bench p12", retrain_every=0)
        Membership.objects.bulk_create([Membership(dataset=dataset, user=user, role=Role.ANNOTATOR) for user in users])
        categories = sorted({row["category"] for row in rows if row["category"]})
        Label.objects.bulk_create(
            [Label(dataset=dataset, name=name, path=name, code=f"c{n}") for n, name in enumerate(categories, 1)]
        )
        Product.objects.bulk_create([
            Product(dataset=dataset, external_id=row["external_id"], title=row["title"], brand=row["brand"] or "",
                    price=row["price"] or None, currency=row["currency"] or "",
                    attributes={"category": row["category"], "merchant": row["merchant"]})
            for row in rows
        ], batch_size=5000)
        ids = dict(Product.objects.filter(dataset=dataset).values_list("external_id", "pk"))
        Task.objects.bulk_create([
            Task(dataset=dataset, product_id=ids[row["external_id"]],
                 random_key=random_key(seed=dataset.seed, external_id=row["external_id"]))
            for row in rows
        ], batch_size=5000)
        labels = dict(Label.objects.filter(dataset=dataset).values_list("name", "pk"))
        category = {row["external_id"]: row["category"] for row in rows}
        picked = list(Task.objects.filter(dataset=dataset).order_by("random_key")
                      .values_list("pk", "product__external_id")[:LABELS])
        Annotation.objects.bulk_create([
            Annotation(dataset=dataset, task_id=task_id, user=users[-1], label_id=labels[category[external_id]])
            for task_id, external_id in picked if category[external_id] in labels
        ], batch_size=5000)
        Task.objects.filter(pk__in=[task_id for task_id, _ in picked]).update(annotation_count=1, is_complete=True)
    return {
        "dataset_id": dataset.pk,
        "products": len(rows),
        "labeled": len(picked),
        "labels": labels,
        "tokens": [Token.objects.get(user=user).key for user in users[:ANNOTATORS]],
    }


def _train(dataset_id: int, timeout: float) -> None:
    """Request a training run (sent to the worker), then print each status it passes with the wall-clock time."""
    from datasets.models import Dataset
    from models_app.models import ModelVersion
    from models_app.services.training import training_request

    version = training_request(dataset=Dataset.objects.get(pk=dataset_id))
    seen = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        version = ModelVersion.objects.get(pk=version.pk)
        if version.status != seen:
            seen = version.status
            print(json.dumps({"status": seen, "at": time.time(), "timings": version.timings,
                              "scored": version.scored_count, "error": version.message}), flush=True)
            if version.is_finished:
                return
        time.sleep(0.1)
    raise SystemExit(f"training did not finish within {timeout:.0f} s")


# --- the measurement (this process: no Django) ---

@dataclass
class Stamped(Recorder):
    """P2's recorder, plus each request's start (wall clock) so that it can be placed against the training run."""

    stamps: list[tuple[str, float, float]] = field(default_factory=list)  # (next|submit, started at, seconds)


class StampedAnnotator(Annotator):
    def _post(self, path: str, body: dict | None) -> tuple[int, bytes, float]:
        started = time.time()
        status, content, seconds = super()._post(path, body)
        if 200 <= status < 300 and status != 204:
            with self.recorder.lock:
                self.recorder.stamps.append(("submit" if path.endswith("/submit/") else "next", started, seconds))
        return status, content, seconds


@dataclass
class Setup:
    dataset_id: int
    labels: dict[str, int]
    tokens: list[str]

    def answer_for(self, task: dict, rng: random.Random) -> dict:
        """P2's annotators ask their setup for each answer: the product's category, as P2's do."""
        return category_answer(self, task, rng)


class Worker:
    """`celery worker` on the bench's database, in a session of its own; always stopped by stop()."""

    def __init__(self, env: dict[str, str], name: str) -> None:
        self.env, self.log_path, self.process = env, DATA_DIR / f"{name}.log", None

    def start(self) -> None:
        # P12_WORKER_NICE: the worker's niceness (0 by default, as bin/run-dev starts it).
        argv = ["nice", "-n", str(env_int("P12_WORKER_NICE", 0)), str(CELERY), "-A", "config", "worker",
                "--concurrency", "1", "--loglevel", "warning", "--without-gossip", "--without-mingle"]
        with self.log_path.open("w") as log_file:
            self.process = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log_file, stderr=log_file,
                                            start_new_session=True)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def _split(stamps: list, start: float, end: float) -> dict[str, dict]:
    """Latencies of the requests started between `start` and `end` (wall clock), and of the others."""
    figures = {}
    for kind in ("next", "submit"):
        during = [s for k, at, s in stamps if k == kind and start <= at <= end]
        outside = [s for k, at, s in stamps if k == kind and not start <= at <= end]
        figures[kind] = {"during": latency_summary(during), "outside": latency_summary(outside)}
    return figures


def measure(backend: str, products: int) -> dict[str, object]:
    env = environment(backend)
    started = time.perf_counter()
    if backend == "sqlite":
        _fresh_sqlite()
        _manage(env, "manage.py", "migrate", "--noinput")
    setup_out = _manage(env, "-m", "bench.p12_submit_during_training", "setup", str(data.catalog(products)),
                        str(products))
    loaded = json.loads(setup_out.strip().splitlines()[-1])
    setup = Setup(dataset_id=loaded["dataset_id"], labels=loaded["labels"], tokens=loaded["tokens"])
    log(f"P12 {backend}: {loaded['products']:,} products, {loaded['labeled']:,} labeled, "
        f"set up in {time.perf_counter() - started:.0f} s")
    think = env_float("P12_THINK", THINK)
    server = Server(f"p12-{backend}", env=env, workers=2)
    worker = Worker(env, f"p12-worker-{backend}")
    statuses: list[dict] = []
    try:
        server.start()
        worker.start()
        recorder = Stamped(measure_from=0.0)
        counted_from = time.time() + WARMUP
        until = time.perf_counter() + 3600  # ended below, AFTER seconds past the run
        threads = [StampedAnnotator(server.port, token, setup, recorder, until, think, seed=n)
                   for n, token in enumerate(setup.tokens)]
        for thread in threads:
            thread.start()
        time.sleep(env_float("P12_BEFORE", BEFORE))
        trainer = subprocess.Popen(
            [PYTHON, "-m", "bench.p12_submit_during_training", "train", str(setup.dataset_id)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for line in trainer.stdout:
            statuses.append(json.loads(line))
            log(f"P12 {backend}: training run {statuses[-1]['status']}")
        if trainer.wait() != 0:
            raise BenchError(f"the training run did not finish: {trainer.stderr.read()[-2000:]}")
        time.sleep(env_float("P12_AFTER", AFTER))
        for thread in threads:
            thread.until = 0  # each ends after its current next + submit
        for thread in threads:
            thread.join(timeout=120)
    finally:
        worker.stop()
        server.stop()
    at = {status["status"]: status["at"] for status in statuses}
    start = at.get("running", statuses[0]["at"])
    end = statuses[-1]["at"]
    stamps = [stamp for stamp in recorder.stamps if stamp[1] >= counted_from]
    figures = _split(stamps, start, end)
    scoring = _split(stamps, at.get("scoring", end), end)
    submit_p99 = figures["submit"]["during"]["p99_ms"]
    result = {
        "backend": backend,
        "products": loaded["products"],
        "labeled": loaded["labeled"],
        "annotators": len(setup.tokens),
        "think_seconds": think,
        "training": {"status": statuses[-1]["status"], "error": statuses[-1]["error"],
                     "seconds": round(end - start, 1), "scored": statuses[-1]["scored"],
                     "timings": statuses[-1]["timings"]},
        **figures,
        "submit_during_rescoring": scoring["submit"]["during"],
        "errors": recorder.errors,
        "first_errors": recorder.error_bodies,
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "target_submit_p99_ms": TARGET_P99_MS,
        "pass": bool(statuses[-1]["status"] == "succeeded" and submit_p99 is not None and submit_p99 < TARGET_P99_MS
                     and not recorder.errors),
    }
    log(f"P12 {backend}: training {result['training']['seconds']} s; submit p99 during {submit_p99} ms "
        f"(outside {figures['submit']['outside']['p99_ms']} ms), max {figures['submit']['during']['max_ms']} ms")
    return result


def run(scale: int) -> dict[str, object]:
    """Both databases (P12_BACKENDS picks), SQLite at P12_PRODUCTS or 100,000, PostgreSQL at P12_PRODUCTS or SCALE.
    The PostgreSQL half uses the bench database as `make bench` left it (created and migrated)."""
    backends = [name.strip() for name in os.environ.get("P12_BACKENDS", "sqlite,postgresql").split(",") if name]
    results: dict[str, object] = {"target_submit_p99_ms": TARGET_P99_MS}
    for backend in backends:
        default = SQLITE_PRODUCTS if backend == "sqlite" else scale
        results[backend] = measure(backend, env_int("P12_PRODUCTS", default))
    results["pass"] = all(results[backend]["pass"] for backend in backends)
    return results


def main() -> int:
    if sys.argv[1:2] == ["setup"]:
        import django

        django.setup()
        print(json.dumps(_setup(Path(sys.argv[2]), int(sys.argv[3]))))
        return 0
    if sys.argv[1:2] == ["train"]:
        import django

        django.setup()
        _train(int(sys.argv[2]), timeout=env_float("P12_TIMEOUT", 1800))
        return 0
    from bench.common import recreate_database

    if "postgresql" in os.environ.get("P12_BACKENDS", "sqlite,postgresql"):
        recreate_database()
    print(json.dumps(run(env_int("SCALE", 100_000)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
