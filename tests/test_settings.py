"""Settings that keep the app up: production refuses to guess its services; dropped connections are replaced."""

import os
import subprocess
import sys
from io import BytesIO
from pathlib import Path
from wsgiref.util import setup_testing_defaults

import psycopg2
import pytest
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
SERVICES = {"DATABASE_URL": "postgres://shelfmark:pw@postgres:5432/shelfmark", "CELERY_BROKER_URL": "redis://redis:6379/0"}


def import_production_settings(**overrides: str | None) -> subprocess.CompletedProcess:
    """Import config.settings.production in a fresh interpreter with only the given environment."""
    env = {"PATH": os.environ.get("PATH", ""), "SECRET_KEY": "x" * 50, **SERVICES}
    env.update({k: v for k, v in overrides.items() if v is not None})
    for name in [k for k, v in overrides.items() if v is None]:
        env.pop(name)
    code = "import config.settings.production as s; print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL)"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def unset_or_empty() -> list:
    """An unset variable (unless a developer's .env would set it) and an empty one."""
    skip = pytest.mark.skipif((ROOT / ".env").exists(), reason=".env may set it")
    return [pytest.param(None, id="unset", marks=skip), pytest.param("", id="empty")]


def test_production_settings_start_with_both_services_set():
    result = import_production_settings()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "redis://redis:6379/0"]


@pytest.mark.parametrize("value", unset_or_empty())
def test_production_settings_refuse_to_start_without_a_database_url(value):
    result = import_production_settings(DATABASE_URL=value)
    assert result.returncode != 0
    assert "ImproperlyConfigured: DATABASE_URL is not set" in result.stderr
    assert "never fall back to the SQLite file" in result.stderr


@pytest.mark.parametrize("value", unset_or_empty())
def test_production_settings_refuse_to_start_without_a_broker_url(value):
    result = import_production_settings(CELERY_BROKER_URL=value)
    assert result.returncode != 0
    assert "ImproperlyConfigured: CELERY_BROKER_URL is not set" in result.stderr


def test_production_settings_accept_a_broker_named_explicitly_even_the_filesystem_one():
    result = import_production_settings(CELERY_BROKER_URL="filesystem://")
    assert result.returncode == 0, result.stderr


def test_login_limits_come_from_the_environment():
    code = "import config.settings.base as s; print(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME.total_seconds())"
    env = {"PATH": os.environ.get("PATH", ""), "SECRET_KEY": "x", "CELERY_BROKER_URL": "memory://"}
    env |= {"LOGIN_FAILURE_LIMIT": "4", "LOGIN_COOLOFF_MINUTES": "2"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["4", "120.0"], result.stderr


def test_connection_health_checks_are_on_by_default_for_a_database_server():
    code = "import config.settings.production as s; print(s.DATABASES['default']['CONN_HEALTH_CHECKS'])"
    env = {"PATH": os.environ.get("PATH", ""), "SECRET_KEY": "x" * 50, **SERVICES}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "True", result.stderr


def wsgi_get(path: str) -> int:
    """One request through the real WSGI handler, which (unlike the test client) recycles connections."""
    environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "wsgi.input": BytesIO()}
    setup_testing_defaults(environ)
    statuses = []
    response = get_wsgi_application()(environ, lambda status, headers, exc_info=None: statuses.append(status))
    b"".join(response)
    response.close()  # sends request_finished, as a WSGI server does
    return int(statuses[0].split()[0])


@pytest.mark.usefixtures("transactional_db")
def test_a_request_after_the_server_dropped_the_connection_still_succeeds(postgres):
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] > 0
    assert wsgi_get("/healthz") == 200
    backend = connection.connection.info.backend_pid
    params = {k: v for k, v in connection.get_connection_params().items() if k != "cursor_factory"}
    with psycopg2.connect(**params) as killer, killer.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
    killer.close()
    assert wsgi_get("/healthz") == 200
    assert connection.connection.info.backend_pid != backend
