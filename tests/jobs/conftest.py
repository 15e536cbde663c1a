from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from kombu import Connection

from config.celery import app
from tests.conftest import IN_CI, require


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, list]]:
    """What reached the broker: the real send is replaced by a recording (the broker is Celery's, not ours)."""
    messages: list[tuple[str, list]] = []
    monkeypatch.setattr(app, "send_task", lambda name, args, **kwargs: messages.append((name, args)))
    return messages


@pytest.fixture
def real_parts(transactional_db: None) -> str:
    """PostgreSQL and a Redis broker of our own (another database number than the test worker's), for worker
    processes started by the test (tests/jobs/processes.py)."""
    require(connection.vendor == "postgresql", "PostgreSQL (set DATABASE_URL=postgres://...)")
    broker = settings.CELERY_BROKER_URL
    if not broker.startswith("redis://"):
        if IN_CI:
            pytest.fail("CI runs the tests with worker processes on Redis: set CELERY_BROKER_URL=redis://...")
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


@pytest.fixture
def worker_log(tmp_path: Path) -> Path:
    return tmp_path / "worker.log"
