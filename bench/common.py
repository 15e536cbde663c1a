"""Shared by the benchmarks: options, the bench database, Django environment, subprocesses, percentiles."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
DATA_DIR = BENCH_DIR / "data"
RESULTS_DIR = BENCH_DIR / "results"
PYTHON = sys.executable
DB_NAME = os.environ.get("BENCH_DB", "shelfmark_bench")  # another name runs a bench beside a running one
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"


class BenchError(Exception):
    """A condition the bench cannot run under (no PostgreSQL, a failed setup step): reported, then exit 1."""


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value.replace("_", "")) if value else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def server_url() -> str:
    """postgres://user[:password]@host:port of the server, from DATABASE_URL when it names PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url.startswith("sqlite") or (url and not url.startswith(("postgres://", "postgresql://", "pgsql://"))):
        raise BenchError(
            f"The benchmarks need PostgreSQL, not {url.split(':', 1)[0]} (DATABASE_URL={url!r}). "
            "Unset DATABASE_URL to use postgres://postgres@127.0.0.1:5432, or point it at a PostgreSQL server; "
            f"the bench creates and uses its own database {DB_NAME!r} there."
        )
    parts = urlsplit(url or DEFAULT_SERVER)
    return urlunsplit(("postgres", parts.netloc, "", "", ""))


def database_url() -> str:
    return f"{server_url()}/{DB_NAME}"


def _pg_parts() -> dict[str, str]:
    parts = urlsplit(server_url())
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": str(parts.port or 5432),
        "user": parts.username or "postgres",
        "password": parts.password or "",
    }


def psql_command(sql: str, dbname: str = DB_NAME, *, tuples: bool = False) -> tuple[list[str], dict[str, str]]:
    """argv and environment for `psql -c sql` (ON_ERROR_STOP so a failure is an exit code; -tA for bare rows)."""
    pg = _pg_parts()
    env = dict(os.environ)
    if pg["password"]:
        env["PGPASSWORD"] = pg["password"]
    argv = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", pg["host"], "-p", pg["port"], "-U", pg["user"]]
    return [*argv, *(["-t", "-A"] if tuples else []), "-d", dbname, "-c", sql], env


def psql(sql: str, dbname: str = DB_NAME, *, tuples: bool = False) -> str:
    argv, env = psql_command(sql, dbname, tuples=tuples)
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise BenchError(f"psql failed ({done.returncode}): {done.stderr.strip()}\n  SQL: {sql[:300]}")
    return done.stdout


def django_env() -> dict[str, str]:
    """The environment of every Django process of the bench: production settings on the bench database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "bench",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "DATABASE_URL": database_url(),
        "CONN_MAX_AGE": "600",
        "CELERY_BROKER_URL": "memory://",
        "MEDIA_ROOT": str(DATA_DIR / "media"),
        "CATALOG_FEATURES_ROOT": str(DATA_DIR / "catalog-features"),
        "STATIC_ROOT": str(DATA_DIR / "static"),  # no collectstatic for the bench: an empty directory
        "LOG_LEVEL": "WARNING",
    }


def check_server() -> str:
    """The server's version string; a clear BenchError when PostgreSQL does not answer."""
    try:
        return psql("SELECT version()", dbname="postgres", tuples=True).strip()
    except FileNotFoundError as error:
        raise BenchError("psql is not installed: the bench needs the PostgreSQL client (postgresql-client).") from error
    except BenchError as error:
        raise BenchError(f"PostgreSQL at {server_url()} does not answer: {error}") from error


def recreate_database() -> float:
    """Drop and recreate the bench database (and its media files), then migrate it; returns the seconds it took."""
    started = time.perf_counter()
    shutil.rmtree(DATA_DIR / "media", ignore_errors=True)  # files of the imports of earlier runs
    psql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)", dbname="postgres")
    psql(f"CREATE DATABASE {DB_NAME}", dbname="postgres")
    done = subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput"],
        cwd=ROOT, env=django_env(), capture_output=True, text=True, timeout=900, check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"migrate failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return time.perf_counter() - started


def django_setup() -> None:
    """Set up Django in this process against the bench database (the environment is set before setup)."""
    os.environ.update(django_env())
    (DATA_DIR / "static").mkdir(parents=True, exist_ok=True)
    import django

    django.setup()


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default), on an already sorted list."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * q
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def latency_summary(seconds: list[float]) -> dict[str, float | int | None]:
    """count, mean, p50/p95/p99 and max, in milliseconds."""
    values = sorted(seconds)

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 2)

    return {
        "count": len(values),
        "mean_ms": ms(sum(values) / len(values)) if values else None,
        "p50_ms": ms(percentile(values, 0.50)),
        "p95_ms": ms(percentile(values, 0.95)),
        "p99_ms": ms(percentile(values, 0.99)),
        "max_ms": ms(values[-1]) if values else None,
    }


class ChunkTimer:
    """Wraps a generator function of chunks (a scoring step) and adds up the seconds spent producing them:
    the model's share of a rescoring, apart from the reads and writes around it. `wrapped` is the original."""

    def __init__(self, wrapped) -> None:
        self.wrapped, self.seconds = wrapped, 0.0

    def __call__(self, **kwargs):
        chunks = self.wrapped(**kwargs)
        while True:
            started = time.perf_counter()
            chunk = next(chunks, None)
            self.seconds += time.perf_counter() - started
            if chunk is None:
                return
            yield chunk


def labels_to_match_table(seeds: Iterable[str], labels_to_match: dict[str, dict]) -> list[str]:
    """The Markdown table of the labels each uncertainty order needs to match random order (P10, P11): a row per
    order of {"per_seed": [labels or None], "mean": labels}, a column per seed and the mean."""
    seeds = list(seeds)
    lines = ["| order | " + " | ".join(f"seed {seed}" for seed in seeds) + " | mean |",
             "| --- | " + " | ".join("---:" for _ in seeds) + " | ---: |"]
    for strategy, figures in labels_to_match.items():
        cells = ["not reached" if count is None else f"{count:,}" for count in figures["per_seed"]]
        lines.append(f"| {strategy} | " + " | ".join(cells) + f" | **{figures['mean']:,}** |")
    return lines
