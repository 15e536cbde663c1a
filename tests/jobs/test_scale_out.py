"""Scale-out with the real parts: two worker processes (concurrency 1 each) on one PostgreSQL and one Redis.
Jobs of different datasets run in parallel, one on each worker; a job whose message reaches both workers runs once.
PostgreSQL and Redis (CI); see docs/ARCHITECTURE.md, "Processes"."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile

from config.jobs.models import Job, JobStatus
from datasets.importers.products import ProductRow
from datasets.models import Dataset, Product, Query
from labeling.kinds.categorization.tasks import product_tasks_upsert
from labeling.models import Task
from models_app.models import ModelVersion
from models_app.services.training import training_request
from tests.conftest import WORDS
from tests.factories import DatasetFactory, UserFactory
from tests.jobs.processes import send_to, stop, wait_for, worker_start
from workspace.models import Export, ImportJob, ImportKind
from workspace.services.datasets import dataset_create
from workspace.services.exports import export_create
from workspace.services.imports import import_job_create

pytestmark = [pytest.mark.worker, pytest.mark.postgres]

NAMES = ("scale-one", "scale-two")
# No worker is killed here: a slow heartbeat on a loaded machine must not look like a dead worker (a takeover
# would be a second claim the tests would rightly call a job run twice).
STEADY = {"JOB_STALE_SECONDS": "120", "JOB_SWEEP_SECONDS": "1", "IMPORT_BATCH_SIZE": "200"}


@dataclass
class Workers:
    broker: str
    logs: dict[str, Path]

    def send(self, name: str, args: list, *, to: str | None = None) -> None:
        """To whichever worker is free (the default queue), or to the worker named `to` (its own queue)."""
        send_to(self.broker, name, args, queue=to)

    def log(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace")


@pytest.fixture
def two_workers(real_parts: str, tmp_path: Path) -> Iterator[Workers]:
    """Two worker processes on the test's broker, each consuming the default queue and a queue of its own, named
    as the worker."""
    logs = {name: tmp_path / f"{name}.log" for name in NAMES}
    waits = [worker_start(real_parts, log, name=f"{name}@%h", queues=name, env=STEADY) for name, log in logs.items()]
    processes: list[subprocess.Popen] = []
    try:
        for ready in waits:
            processes.append(ready())
        yield Workers(real_parts, logs)
    finally:
        for process in processes:
            stop(process)


def node(job: Job) -> str:
    """The worker that claimed the job, by the name it was started with."""
    return job.worker.split("@")[0]


def products_csv(prefix: str, rows: int) -> ContentFile:
    return ContentFile(
        ("id,title,brand\n" + "".join(f"{prefix}{i},Kettle model {i},Acme\n" for i in range(rows))).encode(),
        name=f"{prefix}.csv",
    )


def import_queued(rows: int, prefix: str) -> ImportJob:
    return import_job_create(dataset=DatasetFactory(), user=None, kind=ImportKind.PRODUCTS,
                             file=products_csv(prefix, rows))


def finished(*jobs: Job) -> bool:
    for job in jobs:
        job.refresh_from_db()
    return all(job.is_finished for job in jobs)


def overlap(a: Job, b: Job) -> bool:
    return a.started_at < b.finished_at and b.started_at < a.finished_at


def test_imports_a_training_and_an_export_of_four_datasets_share_two_workers(
    two_workers, sent, labeled_catalog: Dataset, catalog: Dataset
):
    first, second = import_queued(20_000, "A"), import_queued(20_000, "B")
    version = training_request(dataset=labeled_catalog)
    export = export_create(dataset=catalog, user=None, fmt="jsonl", policy="raw")
    jobs: list[Job] = [first, second, version, export]
    assert len(sent) == 4
    for name, args in sent:  # at once: each worker takes one message, the next waits for a free worker
        two_workers.send(name, args)
    wait_for(lambda: finished(*jobs), 300, "the four jobs to finish", *two_workers.logs.values())

    assert [job.status for job in jobs] == [JobStatus.SUCCEEDED] * 4, [job.message for job in jobs]
    assert [job.attempts for job in jobs] == [1, 1, 1, 1]
    assert {node(job) for job in jobs} == set(NAMES), "each worker ran some of the jobs"
    assert overlap(first, second), "the two imports ran at the same time, one on each worker"
    assert node(first) != node(second)
    for job in (first, second):
        assert (job.created_count, job.updated_count, job.error_count) == (20_000, 0, 0)
        assert Product.objects.filter(dataset=job.dataset).count() == 20_000
    assert ModelVersion.objects.get(pk=version.pk).artifact
    assert export.file and export.sha256


def claims(workers: Workers, job: Job) -> dict[str, list[str]]:
    """Each worker's claim decisions on the job, as its log says them (config/jobs/lifecycle.py)."""
    said = {}
    for name in NAMES:
        lines = workers.log(name).splitlines()
        said[name] = [line.split(f"{job.noun} {job.pk} ", 1)[1] for line in lines
                      if f"{job.noun} {job.pk} claimed" in line or f"{job.noun} {job.pk} not claimed" in line]
    return said


def delivered_to_both(workers: Workers, job: Job) -> bool:
    return finished(job) and sum(len(decisions) for decisions in claims(workers, job).values()) == 2


def export_files(export: Export) -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "exports" / str(export.dataset_id)
    return list(folder.glob(f"*-export-{export.pk}-*"))


@pytest.mark.parametrize("kind", ["import", "export", "training"])
def test_a_job_sent_to_both_workers_at_once_is_claimed_once_and_its_result_written_once(
    two_workers, sent, labeled_catalog: Dataset, kind: str
):
    rows = 5_000
    job: Job = {
        "import": lambda: import_queued(rows, "D"),
        "export": lambda: export_create(dataset=labeled_catalog, user=None, fmt="jsonl", policy="raw"),
        "training": lambda: training_request(dataset=labeled_catalog),
    }[kind]()
    [(name, args)] = sent
    before = set(export_files(job)) if kind == "export" else set()  # the media folder outlives test databases
    for worker_name in NAMES:
        two_workers.send(name, args, to=worker_name)
    wait_for(lambda: delivered_to_both(two_workers, job), 300, "both deliveries to be handled",
             *two_workers.logs.values())

    said = claims(two_workers, job)
    winners = [name for name, decisions in said.items() if any(d.startswith("claimed") for d in decisions)]
    assert len(winners) == 1, f"claimed by more than one worker: {said}"
    [winner] = winners
    [loser] = [name for name in NAMES if name != winner]
    assert said[winner] == [f"claimed (attempt 1) by {job.worker}"], said
    assert len(said[loser]) == 1 and said[loser][0].startswith("not claimed: "), said
    assert (job.status, job.attempts, node(job)) == (JobStatus.SUCCEEDED, 1, winner), job.message
    if kind == "import":
        assert (job.created_count, job.updated_count, job.error_count, job.records_done) == (rows, 0, 0, rows)
        assert Product.objects.filter(dataset=job.dataset).count() == rows
        assert Task.objects.filter(dataset=job.dataset).count() == rows
    elif kind == "export":
        assert set(export_files(job)) - before == {Path(settings.MEDIA_ROOT) / job.file.name}
    else:
        assert list(ModelVersion.objects.filter(dataset=labeled_catalog).values_list("number", "status")) == [
            (1, JobStatus.SUCCEEDED)]


def test_a_second_delivery_while_the_job_runs_is_ignored_for_its_fresh_heartbeat(two_workers, sent):
    rows = 40_000
    job = import_queued(rows, "R")
    [(name, args)] = sent
    two_workers.send(name, args, to=NAMES[0])
    wait_for(lambda: job.refresh_from_db() or job.records_done >= 400, 120,
             "the first worker to commit a few batches", *two_workers.logs.values())
    two_workers.send(name, args, to=NAMES[1])
    wait_for(lambda: claims(two_workers, job)[NAMES[1]], 120, "the second worker to handle its delivery",
             *two_workers.logs.values())
    assert claims(two_workers, job)[NAMES[1]] == [f"not claimed: it runs on {job.worker} (fresh heartbeat)"]

    wait_for(lambda: finished(job), 300, "the import to finish", *two_workers.logs.values())
    assert (job.status, job.attempts, job.interruptions, node(job)) == (JobStatus.SUCCEEDED, 1, 0, NAMES[0])
    assert (job.created_count, job.updated_count, job.records_done) == (rows, 0, rows)
    assert Product.objects.filter(dataset=job.dataset).count() == rows


# Per kind of file: the dataset, the header, a row, and what the dataset holds after the import.
SAME_DATASET = {
    ImportKind.PRODUCTS: (DatasetFactory, "id,title,brand", "S{i},Kettle {word} {i},Acme",
                          lambda dataset: (Product.objects.filter(dataset=dataset).count(),
                                           Task.objects.filter(dataset=dataset).count())),
    ImportKind.QUERIES: (lambda: dataset_create(user=UserFactory(), name="Search", task_type="relevance"),
                         "query_id,query", "q{i},kettle {word} {i}",
                         lambda dataset: (Query.objects.filter(dataset=dataset).count(),) * 2),
}


@pytest.mark.parametrize("kind", list(SAME_DATASET))
def test_two_imports_of_one_dataset_on_two_workers_both_land(two_workers, sent, kind: str):
    """The same records, each batch's in the opposite order, upserted by two workers at once: two batches that
    met locked the same rows in opposite orders (a deadlock, and one import failed); now they take turns
    (datasets/services/write_lock.py), and each record is counted created by one import only."""
    make_dataset, header, row, held = SAME_DATASET[kind]
    rows, batch = 20_000, int(STEADY["IMPORT_BATCH_SIZE"])
    dataset = make_dataset()
    forward = [row.format(i=i, word="model") for i in range(rows)]
    backward = [row.format(i=i, word="mark") for start in range(0, rows, batch)
                for i in reversed(range(start, start + batch))]
    jobs = [
        import_job_create(dataset=dataset, user=None, kind=kind,
                          file=ContentFile("\n".join([header, *lines, ""]).encode(), name=f"{name}.csv"))
        for name, lines in (("forward", forward), ("backward", backward))
    ]
    for (name, args), worker_name in zip(sent, NAMES, strict=True):
        two_workers.send(name, args, to=worker_name)
    wait_for(lambda: finished(*jobs), 300, "both imports to finish", *two_workers.logs.values())

    assert [job.status for job in jobs] == [JobStatus.SUCCEEDED] * 2, [job.message for job in jobs]
    assert sorted(node(job) for job in jobs) == sorted(NAMES)
    assert held(dataset) == (rows, rows)
    assert sum(job.created_count for job in jobs) == rows
    assert sum(job.created_count + job.updated_count for job in jobs) == 2 * rows


def test_two_training_runs_of_one_dataset_on_two_workers_take_turns(two_workers, sent, labeled_catalog: Dataset):
    # Open products to rescore, so that the first run is still running when the second is asked for.
    product_tasks_upsert(dataset=labeled_catalog, rows=[
        ProductRow(line=i, external_id=f"T{i}", title=f"Brand{i} {WORDS['Audio'][i % 4]} model {i}")
        for i in range(20_000)
    ])
    first = training_request(dataset=labeled_catalog)
    two_workers.send(*sent[0], to=NAMES[0])
    wait_for(lambda: first.refresh_from_db() or first.is_running or first.is_finished, 120,
             "the first run to start", *two_workers.logs.values())
    second = training_request(dataset=labeled_catalog)
    assert second.pk != first.pk and first.is_running, "the first run ended before the second was asked for"
    two_workers.send(*sent[1], to=NAMES[1])
    # The second worker leaves it queued; the first run, once finished, sends it to whichever worker is free.
    wait_for(lambda: finished(first, second), 300, "both runs to finish", *two_workers.logs.values())

    assert f"training run {second.pk} not claimed: not ready" in two_workers.log(NAMES[1])
    assert (first.status, second.status) == (JobStatus.SUCCEEDED, JobStatus.SUCCEEDED), (first.message, second.message)
    assert (first.attempts, second.attempts) == (1, 1)
    assert second.started_at >= first.finished_at, "one dataset's runs never overlap"
