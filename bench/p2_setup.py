"""P2 setup (not measured): annotators with tokens, a dataset loaded fast with COPY, and a gunicorn server."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import DATA_DIR, ROOT, BenchError, django_env, log

ANNOTATORS = 16
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
    products: int
    tokens: list[str]
    labels: dict[str, int] = field(default_factory=dict)  # label name -> id
    seconds: float = 0.0


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


def load_dataset(path: Path, users: list) -> QueueSetup:
    """A dataset with every row of `path` as a product and an open task, the file's categories as labels."""
    from django.db import connection, transaction
    from rest_framework.authtoken.models import Token

    from datasets.models import Dataset, Label, Membership, Role

    started = time.perf_counter()
    with transaction.atomic():
        dataset = Dataset.objects.create(name=f"bench queue {path.stem}")
        Membership.objects.bulk_create([Membership(dataset=dataset, user=user, role=Role.ANNOTATOR) for user in users])
        with connection.cursor() as cursor, path.open("rb") as handle:
            copy_products(cursor, dataset.pk, handle)
            cursor.execute(TASKS, [dataset.pk, str(dataset.seed), dataset.pk])
            cursor.execute("SELECT DISTINCT category FROM bench_stage WHERE category <> '' ORDER BY 1")
            categories = [row[0] for row in cursor.fetchall()]
        Label.objects.bulk_create(
            [Label(dataset=dataset, name=name, path=name, code=f"c{n}") for n, name in enumerate(categories, 1)]
        )
    with connection.cursor() as cursor:
        # What autovacuum does soon after a bulk load anyway: statistics and a visibility map for the planner.
        cursor.execute("VACUUM (ANALYZE) datasets_product, labeling_task")
        cursor.execute("CHECKPOINT")  # the load's dirty pages are written now, not during the measurement
        cursor.execute("SELECT count(*) FROM labeling_task WHERE dataset_id = %s", [dataset.pk])
        products = cursor.fetchone()[0]
    tokens = [Token.objects.get(user=user).key for user in users]
    labels = dict(Label.objects.filter(dataset=dataset).values_list("name", "pk"))
    seconds = time.perf_counter() - started
    log(f"loaded dataset {dataset.pk}: {products:,} products and tasks, {len(labels)} labels in {seconds:.1f} s")
    return QueueSetup(dataset_id=dataset.pk, products=products, tokens=tokens, labels=labels, seconds=seconds)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn serving config.wsgi on a free loopback port; always stopped by stop() (use try/finally)."""

    def __init__(self, name: str, *, env: dict[str, str] | None = None, workers: int = 3) -> None:
        self.env = env or django_env()  # another database than the bench's (P12 on SQLite)
        self.workers = workers
        self.port = _free_port()
        self.log_path = DATA_DIR / f"gunicorn-{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> None:
        argv = [
            str(GUNICORN), "config.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.workers), "--threads", "4", "--worker-class", "gthread",
        ]
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("w") as log_file:
            self.process = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log_file, stderr=log_file,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited ({self.process.returncode}); see {self.log_path}")
            if self._healthy():
                log(f"gunicorn up on 127.0.0.1:{self.port} (pid {self.process.pid})")
                return
            time.sleep(0.2)
        raise BenchError(f"gunicorn did not answer /healthz within {timeout:.0f} s; see {self.log_path}")

    def _healthy(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            connection.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
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
