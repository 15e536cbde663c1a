"""Faults with the real parts: a worker killed with SIGKILL mid-job, a server whose broker is dead, and a
burst of concurrent training requests. PostgreSQL and Redis (CI); real worker and server processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from celery import Celery
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, connections
from django.urls import reverse
from kombu import Connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from config.jobs.models import JobStatus
from datasets.models import Product, Role
from labeling.models import QualityReport, Task
from models_app.models import ModelVersion, VersionStatus
from tests.conftest import IN_CI, require
from tests.factories import DatasetFactory, member
from workspace.models import Export, ImportJob, ImportKind, ImportStatus
from workspace.services.imports import import_job_create

ROOT = Path(settings.BASE_DIR)
pytestmark = [pytest.mark.worker, pytest.mark.postgres]


def database_url() -> str:
    """The test database, for processes started by a test (they must see what the test commits)."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def real_parts(transactional_db: None) -> str:
    """PostgreSQL and a Redis broker of our own (another database number than the test worker's)."""
    require(connection.vendor == "postgresql", "PostgreSQL (set DATABASE_URL=postgres://...)")
    broker = settings.CELERY_BROKER_URL
    if not broker.startswith("redis://"):
        if IN_CI:
            pytest.fail("CI runs the fault tests on Redis: set CELERY_BROKER_URL=redis://...")
        pytest.skip("needs Redis as the broker")
    parts = urlsplit(broker)
    number = int(parts.path.strip("/") or 0)
    own = urlunsplit(parts._replace(path=f"/{(number + 8) % 16}"))
    try:
        with Connection(own) as conn:
            conn.ensure_connection(max_retries=1)
            conn.default_channel.queue_purge("celery")
    except Exception:
        require(False, f"Redis at {own}")
    return own


def send_to(broker: str, name: str, args: list) -> None:
    """Send a task on this broker. Not through `Celery(broker=...)`: Celery reads CELERY_BROKER_URL from the
    environment before its `broker` argument, so that message went to the suite's broker, where the session's
    in-process worker ran the import while the killed worker had nothing to do (the flake of this test)."""
    with Connection(broker) as conn:
        Celery(set_as_current=False).send_task(name, args=args, connection=conn)


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", **env}
    handle = log.open("ab")
    return subprocess.Popen(args, cwd=ROOT, env=environment, stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    # The whole group, even when the main process has already exited: a pool child it left behind could go on.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def wait_for(condition, seconds: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    detail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    pytest.fail(f"timed out waiting for {what}\n{detail}")


@pytest.fixture
def worker_log(tmp_path: Path) -> Path:
    return tmp_path / "worker.log"


def worker(broker: str, log: Path) -> subprocess.Popen:
    """A worker process with a fast heartbeat and sweeper; returns once it consumes (boot takes seconds)."""
    ready_before = log.read_text(errors="replace").count(" ready.") if log.exists() else 0
    process = start(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork", "--concurrency", "1",
         "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        {
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": broker,
            "IMPORT_BATCH_SIZE": "100",
            "JOB_HEARTBEAT_SECONDS": "0.5",
            "JOB_STALE_SECONDS": "3",
            "JOB_SWEEP_SECONDS": "0.5",
        },
        log,
    )
    wait_for(lambda: log.read_text(errors="replace").count(" ready.") > ready_before, 180, "the worker to start", log)
    return process


def test_a_worker_killed_mid_import_is_replaced_and_every_row_lands_exactly_once(real_parts, worker_log):
    rows = 40_000
    dataset = DatasetFactory()
    csv = "id,title,brand\n" + "".join(f"K{i},Kettle model {i},Acme\n" for i in range(rows))
    job = import_job_create(
        dataset=dataset, user=None, kind=ImportKind.PRODUCTS, file=ContentFile(csv.encode(), name="k.csv"), start=False
    )
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    first = worker(real_parts, worker_log)
    try:
        send_to(real_parts, ImportJob.task_name, [job.pk])

        def some_batches_committed() -> bool:
            job.refresh_from_db()
            return job.status == ImportStatus.RUNNING and job.records_done >= 300

        wait_for(some_batches_committed, 60, "the first worker to commit a few batches", worker_log)
    finally:
        stop(first)
    job.refresh_from_db()
    assert job.status == ImportStatus.RUNNING and job.records_done < rows, "the kill came too late to test anything"

    second = worker(real_parts, worker_log)
    try:
        wait_for(lambda: job.refresh_from_db() or job.is_finished, 120, "the second worker to finish", worker_log)
    finally:
        stop(second)
    assert (job.status, job.created_count, job.updated_count, job.error_count) == (ImportStatus.SUCCEEDED, rows, 0, 0)
    assert (job.records_done, job.interruptions, job.attempts) == (rows, 1, 2)
    assert Product.objects.filter(dataset=dataset).count() == rows
    assert Task.objects.filter(dataset=dataset).count() == rows


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(url: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 - a local test server
        url,
        data=json.dumps(body or {}).encode(),
        method="POST",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - a local test server
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def dead_broker_server(real_parts: str, tmp_path: Path) -> Iterator[str]:
    """The app served in its own process, configured with a broker nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"  # closed as soon as the block ends
    port = free_port()
    log = tmp_path / "server.log"
    server = start(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--nothreading"],
        {"DATABASE_URL": database_url(), "CELERY_BROKER_URL": dead},
        log,
    )

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return True
        except OSError:
            return False

    try:
        wait_for(answers, 60, "the server to start", log)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(server)


def test_a_server_with_a_dead_broker_answers_503_and_keeps_no_job(dead_broker_server, labeled_catalog):
    lead = member(labeled_catalog, "lead", Role.LEAD)
    token = Token.objects.create(user=lead).key
    started = time.monotonic()
    for path, body in (
        (reverse("api-model-train", args=[labeled_catalog.pk]), None),
        (reverse("api-quality", args=[labeled_catalog.pk]), None),
        (reverse("api-export-list", args=[labeled_catalog.pk]), {"format": "jsonl"}),
    ):
        status, answer = post(dead_broker_server + path, token, body)
        assert status == 503, (path, answer)
        assert "job queue is not reachable" in answer["detail"]
    assert time.monotonic() - started < 30, "a dead broker must fail fast"
    assert not ModelVersion.objects.filter(dataset=labeled_catalog).exists()
    assert not QualityReport.objects.filter(dataset=labeled_catalog).exists()
    assert not Export.objects.filter(dataset=labeled_catalog).exists()


def test_sixty_concurrent_train_requests_all_end_in_finished_runs(celery_worker, labeled_catalog):
    require(connection.vendor == "postgresql", "PostgreSQL (set DATABASE_URL=postgres://...)")
    lead = member(labeled_catalog, "lead", Role.LEAD)
    url = reverse("api-model-train", args=[labeled_catalog.pk])
    gate = threading.Barrier(60)
    statuses: list[int] = []

    def request() -> None:
        api = APIClient()
        api.force_authenticate(lead)
        gate.wait()
        try:
            statuses.append(api.post(url).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=request) for _ in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [202] * 60
    unfinished = [VersionStatus.QUEUED, *ModelVersion.RUNNING_STATES]
    versions = ModelVersion.objects.filter(dataset=labeled_catalog)
    wait_for(lambda: not versions.filter(status__in=unfinished).exists(), 120, "every run to finish")
    assert set(versions.values_list("status", flat=True)) == {JobStatus.SUCCEEDED}
