import os
import shutil
import time
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import connection

from datasets.models import Dataset
from labeling.models import Annotation, Task
from tests.factories import DatasetFactory, LabelFactory, ProductFactory, TaskFactory

# Playwright's sync API runs an event loop in the test thread; the ORM calls around it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = "/usr/bin/chromium"


def require(available: bool, what: str) -> None:
    """Skip when a service is missing on a developer machine; in CI a missing service is a failure."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"CI requires {what}, and it is not available.")
    pytest.skip(f"needs {what}")


@pytest.fixture
def postgres(db: None) -> None:
    require(connection.vendor == "postgresql", "PostgreSQL (set DATABASE_URL=postgres://...)")


@pytest.fixture
def catalog(db: None) -> Dataset:
    """A dataset with three labels and five open tasks."""
    dataset = DatasetFactory()
    for name in ("Audio", "Phones", "Shoes"):
        LabelFactory(dataset=dataset, name=name, path=name)
    TaskFactory.create_batch(5, dataset=dataset)
    return dataset


WORDS = {
    "Audio": ["headphones", "earbuds", "speaker", "soundbar"],
    "Phones": ["smartphone", "iphone", "galaxy phone", "android phone"],
    "Shoes": ["sneakers", "running shoes", "boots", "sandals"],
}


@pytest.fixture
def labeled_catalog(db: None) -> Dataset:
    """Three well-separated categories: 8 labeled and 4 open products each."""
    dataset = DatasetFactory(cold_start_examples=3, retrain_every=0)
    for name, words in WORDS.items():
        label = LabelFactory(dataset=dataset, name=name, path=f"Shop > {name}")
        for i in range(12):
            product = ProductFactory(dataset=dataset, title=f"Brand{i} {words[i % 4]} model {i}")
            task = TaskFactory(dataset=dataset, product=product)
            if i < 8:
                Annotation.objects.create(dataset=dataset, task=task, label=label, source="import", source_name="seed")
                Task.objects.filter(pk=task.pk).update(annotation_count=1, is_complete=True)
    return dataset


@pytest.fixture(scope="session")
def celery_worker_session(django_db_setup: None, django_db_blocker) -> Iterator[object]:
    """A real Celery worker, in a thread of the test process, on the configured broker (Redis in CI)."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    broker = settings.CELERY_BROKER_URL
    if broker.startswith("redis://"):
        import redis

        try:
            redis.Redis.from_url(broker).ping()
        except redis.ConnectionError:
            require(False, f"Redis at {broker}")
    elif IN_CI:
        pytest.fail("CI runs the worker tests on Redis: set CELERY_BROKER_URL=redis://...")
    app.control.purge()
    with (
        django_db_blocker.unblock(),
        start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING") as worker,
    ):
        yield worker


@pytest.fixture
def celery_worker(celery_worker_session: object, transactional_db: None) -> Iterator[object]:
    yield celery_worker_session
    # Work the test set off (a conflict check after its answers) must end before the tables are flushed:
    # a task still reading them would deadlock with the flush's TRUNCATE.
    worker_idle_wait(timeout=30)


def worker_idle_wait(*, timeout: float) -> None:
    """Wait until the suite's worker has nothing running, reserved or waiting in its queue (at most `timeout`)."""
    from amqp.exceptions import ChannelError
    from celery.worker import state

    from config.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.connection_for_read() as connection_:
            try:
                waiting = connection_.default_channel.queue_declare(queue="celery", passive=True).message_count
            except ChannelError:  # no such queue yet: nothing was ever sent to it
                waiting = 0
        if not waiting and not state.active_requests and not state.reserved_requests:
            return
        time.sleep(0.05)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    require(shutil.which("chromium") is not None or os.path.exists(CHROMIUM), "Chromium (/usr/bin/chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def worker_sweep_once() -> None:
    """What a worker's sweeper does every JOB_SWEEP_SECONDS, once: its loop, stopped after the first `swept`.
    The loop closes its connection when it stops: call it from a transactional test."""
    from unittest.mock import Mock

    from config.jobs.signals import swept
    from config.jobs.worker import JobSweeper

    sweeper = JobSweeper(Mock())
    swept.connect(lambda **kwargs: sweeper._stop.set(), weak=False, dispatch_uid="test.stop_after_one_sweep")
    try:
        sweeper._loop(0.01)
    finally:
        swept.disconnect(dispatch_uid="test.stop_after_one_sweep")


def log_in(page, username: str, password: str = "pw") -> None:
    """Log in through the real form (factories' users have the password "pw")."""
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def wait_until_finished(record, seconds: float = 90) -> None:
    """Poll a job-like record (import, model version) until the worker finishes it or time runs out."""
    deadline = time.monotonic() + seconds
    while not record.is_finished and time.monotonic() < deadline:
        time.sleep(0.2)
        record.refresh_from_db()
