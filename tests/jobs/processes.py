"""Real processes for the job tests: Celery workers and servers started as subprocesses against the test database,
and the messages sent to them on the test's own broker (tests/jobs/conftest.py's `real_parts`)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection
from kombu import Connection

ROOT = Path(settings.BASE_DIR)

# A worker of these tests: a fast heartbeat and sweeper, so a killed worker is noticed within seconds.
FAST_JOBS = {
    "IMPORT_BATCH_SIZE": "100",
    "JOB_HEARTBEAT_SECONDS": "0.5",
    "JOB_STALE_SECONDS": "3",
    "JOB_SWEEP_SECONDS": "0.5",
}


def database_url() -> str:
    """The test database, for processes started by a test (they must see what the test commits)."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def send_to(broker: str, name: str, args: list, *, queue: str | None = None) -> None:
    """Send a task on this broker (to `queue`, else the default one). Not through `Celery(broker=...)`: Celery reads
    CELERY_BROKER_URL from the environment before its `broker` argument, so that message went to the suite's broker,
    where the session's in-process worker ran the import while the killed worker had nothing to do (the flake of the
    fault test)."""
    with Connection(broker) as conn:
        Celery(set_as_current=False).send_task(name, args=args, connection=conn, queue=queue)


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


def wait_for(condition: Callable[[], object], seconds: float, what: str, *logs: Path | None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    details = [f"--- {log.name}\n" + log.read_text(errors="replace")[-3000:] for log in logs if log and log.exists()]
    pytest.fail(f"timed out waiting for {what}\n" + "\n".join(details))


def _ready_count(log: Path) -> int:
    return log.read_text(errors="replace").count(" ready.") if log.exists() else 0


def worker_start(
    broker: str, log: Path, *, name: str | None = None, queues: str | None = None, env: dict[str, str] | None = None
) -> Callable[[], subprocess.Popen]:
    """Start a worker process (concurrency 1) and return the wait for it to consume (boot takes seconds), so
    that several boot at once. `name` is its node name (`-n`), `queues` what it consumes besides the default."""
    ready_before = _ready_count(log)
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork", "--concurrency", "1",
               "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    if name:
        command += ["-n", name]
    if queues:
        command += ["-Q", f"celery,{queues}"]
    process = start(command, {"DATABASE_URL": database_url(), "CELERY_BROKER_URL": broker, **FAST_JOBS, **(env or {})},
                    log)

    def ready() -> subprocess.Popen:
        try:
            wait_for(lambda: _ready_count(log) > ready_before, 180, f"the worker {name or ''} to start", log)
        except BaseException:
            stop(process)
            raise
        return process

    return ready


def worker(
    broker: str, log: Path, *, name: str | None = None, queues: str | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen:
    """A worker process, once it consumes."""
    return worker_start(broker, log, name=name, queues=queues, env=env)()
