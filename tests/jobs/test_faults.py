"""Faults with the real parts: a worker killed with SIGKILL mid-job, a server whose broker is dead, and a
burst of concurrent training requests. PostgreSQL and Redis (CI); real worker and server processes."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import connection, connections
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from config.jobs.models import JobStatus
from datasets.models import Product, Role
from labeling.models import QualityReport, Task
from models_app.models import ModelVersion, VersionStatus
from tests.conftest import require
from tests.factories import DatasetFactory, member
from tests.jobs.processes import database_url, send_to, start, stop, wait_for, worker
from workspace.models import Export, ImportJob, ImportKind, ImportStatus
from workspace.services.imports import import_job_create

pytestmark = [pytest.mark.worker, pytest.mark.postgres]


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
