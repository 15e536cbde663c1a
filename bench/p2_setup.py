"""P2 setup (not measured): annotators with tokens, a dataset loaded fast with COPY, and a gunicorn server."""

from __future__ import annotations

import http.client
import os
import random
import runpy
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import DATA_DIR, ROOT, BenchError, django_env, log

ANNOTATORS = 16
# How a kind's annotator answers a task: the setup (its labels), the task as next returned it, a seeded rng.
Answerer = Callable[["QueueSetup", dict, random.Random], dict]
GUNICORN = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "gunicorn"

STAGE = """
CREATE TEMP TABLE bench_stage (
    external_id text, title text, brand text, price numeric(14, 2), currency text, merchant text, category text
) ON COMMIT DROP
"""
PRODUCTS = """
INSERT INTO datasets_product (dataset_id, external_id, title, description, brand, price, currency, image_url, url,
                              attributes, created_at, updated_at)
SELECT %s, external_id, title, '', coalesce(brand, ''), price, coalesce(currency, ''), '', '',
       jsonb_strip_nulls(jsonb_build_object('merchant', merchant, 'category', category)), now(), now()
FROM bench_stage
"""
# The same range as labeling.queue.random_key (7 bytes of a hash of seed and external_id), computed in SQL.
TASKS = """
INSERT INTO labeling_task (dataset_id, product_id, is_gold, annotation_count, is_complete, priority, random_key,
                           created_at)
SELECT %s, id, false, 0, false, 0, ('x' || substr(md5(%s || ':' || external_id), 1, 14))::bit(56)::bigint, now()
FROM datasets_product WHERE dataset_id = %s
"""


@dataclass
class QueueSetup:
    dataset_id: int
    products: int  # tasks, whatever their kind (products, pairs, (query, product) pairs)
    tokens: list[str]
    answer: Answerer
    labels: dict[str, int] = field(default_factory=dict)  # label name -> id
    seconds: float = 0.0

    def answer_for(self, task: dict, rng: random.Random) -> dict:
        """The body of the submit of `task` (as next returned it), as the kind's annotators would answer it."""
        return self.answer(self, task, rng)


def category_answer(setup: QueueSetup, task: dict, rng: random.Random) -> dict:
    """The product's true category (the catalog's column), else a label at random."""
    category = (task.get("product") or {}).get("attributes", {}).get("category")
    return {"label": setup.labels.get(category) or rng.choice(list(setup.labels.values()))}


def reset() -> None:
    """Empty every dataset and user (P1's import included), so each P2 scale sees only its own data."""
    from django.db import connection

    with connection.cursor() as cursor:
        # Tasks have no foreign-key constraint to their dataset for TRUNCATE ... CASCADE to follow: named, they go too.
        cursor.execute("TRUNCATE datasets_dataset, auth_user, labeling_task RESTART IDENTITY CASCADE")


def annotators() -> list:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from rest_framework.authtoken.models import Token

    user_model = get_user_model()
    names = [f"bench-annotator-{n:02d}" for n in range(1, ANNOTATORS + 1)]
    users = [user_model.objects.get_or_create(username=name, defaults={"password": make_password(None)})[0]
             for name in names]
    for user in users:
        Token.objects.get_or_create(user=user)
    return users


def copy_products(cursor, dataset_id: int, rows) -> None:
    """The bench catalog's rows (`rows`: a binary file of its CSV, header first) as products of the dataset, by COPY
    into the staging table (kept for the caller's transaction) and one INSERT."""
    cursor.execute(STAGE)
    cursor.copy_expert("COPY bench_stage FROM STDIN WITH (FORMAT csv, HEADER true)", rows)
    cursor.execute(PRODUCTS, [dataset_id])


def load_tasks(path: Path, users: list, *, create: Callable[[list], Any], fill: Callable[[Any, Any], None],
               answer: Answerer, tables: tuple[str, ...] = ()) -> QueueSetup:
    """A dataset made by `create(users)`, every row of `path` a product (COPY), its tasks written by
    `fill(cursor, dataset)` (set-based SQL in the same transaction, the staging table `bench_stage` still there),
    every user an annotator of it; then statistics and a checkpoint. `tables`: others `fill` wrote, to analyze."""
    from django.db import connection, transaction
    from rest_framework.authtoken.models import Token

    from datasets.models import Label, Membership, Role

    started = time.perf_counter()
    with transaction.atomic():
        dataset = create(users)
        members = set(Membership.objects.filter(dataset=dataset).values_list("user_id", flat=True))
        Membership.objects.bulk_create(
            [Membership(dataset=dataset, user=user, role=Role.ANNOTATOR) for user in users if user.pk not in members]
        )
        with connection.cursor() as cursor, path.open("rb") as handle:
            copy_products(cursor, dataset.pk, handle)
            fill(cursor, dataset)
    with connection.cursor() as cursor:
        # What autovacuum does soon after a bulk load anyway: statistics and a visibility map for the planner.
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(('datasets_product', 'labeling_task', *tables))}")
        cursor.execute("CHECKPOINT")  # the load's dirty pages are written now, not during the measurement
        cursor.execute("SELECT count(*) FROM labeling_task WHERE dataset_id = %s", [dataset.pk])
        count = cursor.fetchone()[0]
    tokens = [Token.objects.get(user=user).key for user in users]
    labels = dict(Label.objects.filter(dataset=dataset).values_list("name", "pk"))
    seconds = time.perf_counter() - started
    log(f"loaded {dataset.task_type} dataset {dataset.pk}: {count:,} tasks, {len(labels)} labels in {seconds:.1f} s")
    return QueueSetup(dataset_id=dataset.pk, products=count, tokens=tokens, answer=answer, labels=labels,
                      seconds=seconds)


def _categories(cursor, dataset) -> None:
    """An open task per product, the file's categories as flat labels."""
    from datasets.models import Label

    cursor.execute(TASKS, [dataset.pk, str(dataset.seed), dataset.pk])
    cursor.execute("SELECT DISTINCT category FROM bench_stage WHERE category <> '' ORDER BY 1")
    categories = [row[0] for row in cursor.fetchall()]
    Label.objects.bulk_create(
        [Label(dataset=dataset, name=name, path=name, code=f"c{n}") for n, name in enumerate(categories, 1)]
    )


def load_dataset(path: Path, users: list) -> QueueSetup:
    """A dataset with every row of `path` as a product and an open task, the file's categories as labels."""
    from datasets.models import Dataset

    return load_tasks(path, users, create=lambda _: Dataset.objects.create(name=f"bench queue {path.stem}"),
                      fill=_categories, answer=category_answer)


def kind_dataset(task_type: str, name: str) -> Callable[[list], Any]:
    """`create` for load_tasks: a dataset of the kind made as a lead makes it (the kind's fixed labels), the
    first user its lead."""

    def create(users: list) -> Any:
        from workspace.services.datasets import dataset_create

        return dataset_create(user=users[0], name=name, task_type=task_type)

    return create


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_server() -> dict[str, object]:
    """The workers, threads and worker class of the production config (gunicorn.conf.py): the bench serves so."""
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    return {name: settings[name] for name in ("workers", "threads", "worker_class")}


class Server:
    """gunicorn serving config.wsgi on a free loopback port; always stopped by stop() (use try/finally).
    bench.peer serves Label Studio with the same workers and threads: its gunicorn, app, environment and health path."""

    def __init__(self, name: str, *, env: dict[str, str] | None = None, workers: int | None = None,
                 gunicorn: Path = GUNICORN, app: str = "config.wsgi:application", cwd: Path = ROOT,
                 health: str = "/healthz") -> None:
        self.env = env or django_env()  # another database than the bench's (P12 on SQLite), or bench.peer's
        self.config = production_server()
        self.workers = workers or self.config["workers"]
        self.port = _free_port()
        self.log_path = DATA_DIR / f"gunicorn-{name}.log"
        self.process: subprocess.Popen | None = None
        self.gunicorn, self.app, self.cwd, self.health = gunicorn, app, cwd, health

    def start(self, timeout: float = 60) -> None:
        argv = [
            str(self.gunicorn), self.app, "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.workers), "--threads", str(self.config["threads"]),
            "--worker-class", str(self.config["worker_class"]),
        ]
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("w") as log_file:
            self.process = subprocess.Popen(argv, cwd=self.cwd, env=self.env, stdout=log_file, stderr=log_file,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited ({self.process.returncode}); see {self.log_path}")
            if self._healthy():
                log(f"gunicorn up on 127.0.0.1:{self.port} (pid {self.process.pid})")
                return
            time.sleep(0.2)
        raise BenchError(f"gunicorn did not answer {self.health} within {timeout:.0f} s; see {self.log_path}")

    def _healthy(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            connection.request("GET", self.health, headers={"Host": "127.0.0.1"})
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # gunicorn's graceful stop, its workers included
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # the session this bench started for it
            self.process.wait(timeout=5)
        log(f"gunicorn stopped (pid {self.process.pid})")
