"""Label Studio's side: installed into its own virtualenv, run on its own PostgreSQL database under gunicorn.

Its version check, analytics and error reporting are off (LATEST_VERSION_CHECK=false, COLLECT_ANALYTICS=false,
SENTRY_DSN and FRONTEND_SENTRY_DSN empty), DEBUG off. Everything the workload does goes through its HTTP API
with legacy API tokens (`Authorization: Token ...`), except two setup steps run in its own Python with its own
models: creating the 16 annotator accounts (the open-source API has no user creation) and, before the export,
one annotation for every task the queue did not reach (as P4 labels Shelfmark's products with one INSERT).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.common import DATA_DIR, PYTHON, BenchError, _pg_parts, env_float, latency_summary, log, psql
from bench.p2_queue import WARMUP, Annotator, Recorder
from bench.p2_setup import ANNOTATORS, QueueSetup, Server
from bench.peer.table import catalog_tasks, choice_result, label_config

VERSION = "1.23.0"
GUNICORN_VERSION = "27.0.1"  # Shelfmark's pin (requirements.txt): both servers run the same gunicorn
VENV = DATA_DIR / "peer-venv"
HOME = DATA_DIR / "peer-data"  # its BASE_DATA_DIR (media, exports); emptied with the database
DB_NAME = os.environ.get("PEER_DB", "shelfmark_peer")
ADMIN = "admin@bench.local"
ADMIN_TOKEN = "bench-peer-admin-token"
PASSWORD = "bench-peer-password"

ANNOTATORS_SCRIPT = """
import json, django
django.setup()
from organizations.models import Organization
from users.models import User
org = Organization.objects.first()
tokens = []
for n in range(1, {count} + 1):
    user = User.objects.create_user(email=f"annotator{{n:02d}}@bench.local", password={password!r})
    org.add_user(user)
    user.active_organization = org
    user.save(update_fields=["active_organization"])
    tokens.append(user.auth_token.key)
print(json.dumps(tokens))
"""

# One annotation (the true category) for each task still without one, spread over the annotators, as P4 does.
LABEL_REST_SCRIPT = """
import json, sys, django
django.setup()
from django.db import transaction
from tasks.models import Annotation, Task
from users.models import User
project_id = int(sys.argv[1])
users = list(User.objects.filter(email__startswith="annotator").order_by("id").values_list("id", flat=True))
rows = Task.objects.filter(project_id=project_id, annotations__isnull=True).values_list("id", "data")
made = 0
with transaction.atomic():
    batch = []
    for task_id, data in rows.iterator(chunk_size=5000):
        result = [{"from_name": "category", "to_name": "title", "type": "choices",
                   "value": {"choices": [data["category"]]}}]
        batch.append(Annotation(task_id=task_id, project_id=project_id, completed_by_id=users[task_id % len(users)],
                                result=result, lead_time=1.0))
        if len(batch) == 5000:
            Annotation.objects.bulk_create(batch)
            made, batch = made + len(batch), []
    Annotation.objects.bulk_create(batch)
    made += len(batch)
    Task.objects.filter(project_id=project_id).update(is_labeled=True, total_annotations=1)
print(json.dumps({"labeled": made}))
"""


def _site_packages() -> Path:
    found = sorted(VENV.glob("lib/python*/site-packages/label_studio"))
    if not found:
        raise BenchError(f"label_studio is not installed in {VENV}")
    return found[0]


def installed_version() -> str | None:
    """label-studio's version in the peer virtualenv (pip show), None when absent or gunicorn is missing."""
    if not (VENV / "bin" / "pip").exists() or not (VENV / "bin" / "gunicorn").exists():
        return None
    done = subprocess.run([str(VENV / "bin" / "pip"), "show", "label-studio"], capture_output=True, text=True,
                          check=False)
    versions = [line.split(":", 1)[1].strip() for line in done.stdout.splitlines() if line.startswith("Version:")]
    return versions[0] if versions else None


def ensure_installed() -> str:
    """Label Studio VERSION and gunicorn in their own virtualenv; an existing one of that version is kept."""
    version = installed_version()
    if version == VERSION:
        log(f"Label Studio {version} already installed in {VENV}")
        return version
    log(f"installing label-studio=={VERSION} and gunicorn=={GUNICORN_VERSION} into {VENV} (a few minutes)")
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([_base_python(), "-m", "venv", str(VENV)], check=True)
    done = subprocess.run(
        [str(VENV / "bin" / "pip"), "install", "--quiet", f"label-studio=={VERSION}", f"gunicorn=={GUNICORN_VERSION}"],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"pip install label-studio failed:\n{done.stderr[-3000:]}")
    version = installed_version()
    if version != VERSION:
        raise BenchError(f"installed label-studio is {version}, not {VERSION}")
    return version


def _base_python() -> str:
    """The interpreter Shelfmark's virtualenv was made from (plainer than a venv made from a venv)."""
    return getattr(sys, "_base_executable", None) or PYTHON


def environment(site_packages: Path | None = None) -> dict[str, str]:
    """Label Studio's processes' environment: a clean one (nothing of Shelfmark's settings leaks in)."""
    pg = _pg_parts()
    kept = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR") if name in os.environ}
    return {
        **kept,
        "DJANGO_SETTINGS_MODULE": "label_studio.core.settings.label_studio",
        "PYTHONPATH": str(site_packages or _site_packages()),  # LS imports its apps as top-level modules
        "DJANGO_DB": "default",
        "POSTGRE_NAME": DB_NAME,
        "POSTGRE_USER": pg["user"],
        "POSTGRE_PASSWORD": pg["password"],
        "POSTGRE_HOST": pg["host"],
        "POSTGRE_PORT": pg["port"],
        "LABEL_STUDIO_BASE_DATA_DIR": str(HOME),
        "LATEST_VERSION_CHECK": "false",
        "COLLECT_ANALYTICS": "false",
        "SENTRY_DSN": "",
        "FRONTEND_SENTRY_DSN": "",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "SECRET_KEY": "bench",
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
    }


def _run(argv: list[str], what: str, timeout: int = 900) -> str:
    done = subprocess.run(argv, cwd=HOME, env=environment(), capture_output=True, text=True, timeout=timeout,
                          check=False)
    if done.returncode != 0:
        raise BenchError(f"Label Studio {what} failed ({done.returncode}):\n{done.stdout[-2000:]}\n"
                         f"{done.stderr[-3000:]}")
    return done.stdout


def recreate() -> list[str]:
    """Its database dropped and recreated, migrated and initialized (`label-studio init`: the admin with its token),
    then 16 annotator accounts; returns their API tokens."""
    started = time.perf_counter()
    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir(parents=True)
    psql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)", dbname="postgres")
    psql(f"CREATE DATABASE {DB_NAME}", dbname="postgres")
    _run([str(VENV / "bin" / "label-studio"), "init", "--quiet", "--username", ADMIN, "--password", PASSWORD,
          "--user-token", ADMIN_TOKEN, "--enable-legacy-api-token"], "init")
    out = _run([str(VENV / "bin" / "python"), "-c", ANNOTATORS_SCRIPT.format(count=ANNOTATORS, password=PASSWORD)],
               "annotator accounts")
    tokens = json.loads(out.strip().splitlines()[-1])
    log(f"Label Studio database {DB_NAME} migrated, admin and {len(tokens)} annotators in "
        f"{time.perf_counter() - started:.0f} s")
    return tokens


def server(name: str) -> Server:
    return Server(f"peer-ls-{name}", gunicorn=VENV / "bin" / "gunicorn", app="label_studio.core.wsgi:application",
                  env=environment(), cwd=HOME, health="/health")


def request(port: int, method: str, path: str, body: object = None, *, token: str = ADMIN_TOKEN,
            timeout: float = 3600) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        payload = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
        connection.request(method, path, body=payload, headers={
            "Authorization": f"Token {token}", "Content-Type": "application/json", "Host": "127.0.0.1"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _checked(port: int, method: str, path: str, body: object = None) -> object:
    status, content = request(port, method, path, body)
    if not 200 <= status < 300:
        raise BenchError(f"Label Studio {method} {path}: {status} {content[:500]!r}")
    return json.loads(content) if content else None


def import_catalog(port: int, path: Path, rows: int) -> dict:
    """A project with label_config of the catalog's categories, then every row imported as a task in one
    POST /api/projects/{id}/import (JSON, built before the clock starts). Timed: until the import answered and
    the project counts every task."""
    tasks = list(catalog_tasks(path))
    project = _checked(port, "POST", "/api/projects", {
        "title": f"bench peer {rows}", "label_config": label_config(task["data"]["category"] for task in tasks)})
    body = json.dumps(tasks).encode()
    started = time.perf_counter()
    answer = _checked(port, "POST", f"/api/projects/{project['id']}/import", body)
    counted = _checked(port, "GET", f"/api/projects/{project['id']}")["task_number"]
    seconds = time.perf_counter() - started
    if counted != rows:
        raise BenchError(f"Label Studio imported {counted:,} tasks of {rows:,}")
    log(f"Label Studio import: {counted:,} tasks in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)")
    psql("VACUUM (ANALYZE)", dbname=DB_NAME)  # as P2's load does for Shelfmark: statistics before the queue
    psql("CHECKPOINT", dbname=DB_NAME)
    return {"project_id": project["id"], "tasks": counted, "seconds": round(seconds, 3),
            "rows_per_s": round(rows / seconds, 1), "server_duration_s": answer.get("duration"),
            "request_bytes": len(body)}


class PeerAnnotator(Annotator):
    """P2's annotator against Label Studio: GET /api/projects/{id}/next, think, POST /api/tasks/{id}/annotations/
    with the task's true category."""

    empty_status = 404

    def _next(self) -> tuple[int, bytes, float]:
        return self._send("GET", f"/api/projects/{self.setup.dataset_id}/next", None)

    def _submit(self, task: dict, next_s: float) -> tuple[int, bytes, float]:
        body = {**self.setup.answer_for(task, self.rng), "lead_time": round(self.think + next_s, 3)}
        return self._send("POST", f"/api/tasks/{task['id']}/annotations/", body)


def _true_choice(setup: QueueSetup, task: dict, rng: random.Random) -> dict:
    """A Label Studio annotation choosing the task's true category (its `category` column)."""
    return {"result": choice_result(task["data"]["category"])}


def queue(port: int, project_id: int, tokens: list[str], seconds: float, think: float) -> dict:
    """16 annotators for WARMUP + `seconds`, as P2 measures Shelfmark; the same figures."""
    setup = QueueSetup(dataset_id=project_id, products=0, tokens=tokens, answer=_true_choice)
    start = time.perf_counter()
    recorder = Recorder(measure_from=start + WARMUP)
    until = start + WARMUP + seconds
    threads = [PeerAnnotator(port, token, setup, recorder, until, think, seed=n) for n, token in enumerate(tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WARMUP + seconds + 120)
    pairs = latency_summary(recorder.pair_s)
    log(f"Label Studio next + submit: {len(recorder.pair_s) / seconds:.1f} pairs/s, pair p50 {pairs['p50_ms']} ms, "
        f"p95 {pairs['p95_ms']} ms; {sum(recorder.errors.values())} errors")
    for body in recorder.error_bodies:
        log(f"  first errors: {body}")
    return {"next": latency_summary(recorder.next_s), "submit": latency_summary(recorder.submit_s), "pair": pairs,
            "pairs_per_s": round(len(recorder.pair_s) / seconds, 1), "errors": recorder.errors,
            "first_errors": recorder.error_bodies, "empty_queue": recorder.empty}


def export(port: int, project_id: int) -> dict:
    """Every task labeled (setup, not timed), then GET /api/projects/{id}/export?exportType=JSON: its synchronous
    export of all tasks with their annotations. Timed: until the whole body is read; rows counted after."""
    out = _run([str(VENV / "bin" / "python"), "-c", LABEL_REST_SCRIPT, str(project_id)], "labeling", timeout=3600)
    labeled = json.loads(out.strip().splitlines()[-1])["labeled"]
    psql("VACUUM (ANALYZE)", dbname=DB_NAME)
    psql("CHECKPOINT", dbname=DB_NAME)
    timeout = env_float("PEER_EXPORT_TIMEOUT", 1800.0)
    started = time.perf_counter()
    try:
        status, content = request(port, "GET", f"/api/projects/{project_id}/export?exportType=JSON"
                                  "&download_all_tasks=true", timeout=timeout)
    except TimeoutError:
        log(f"Label Studio export: no answer within {timeout:.0f} s (PEER_EXPORT_TIMEOUT)")
        return {"timed_out": True, "seconds": timeout, "rows_per_s": None, "labeled_in_setup": labeled}
    seconds = time.perf_counter() - started
    if status != 200:
        raise BenchError(f"Label Studio export: {status} {content[:500]!r}")
    rows = len(json.loads(content))
    log(f"Label Studio export: {rows:,} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)")
    return {"rows": rows, "bytes": len(content), "seconds": round(seconds, 3), "rows_per_s": round(rows / seconds, 1),
            "labeled_in_setup": labeled}


def delete_project(port: int, project_id: int) -> None:
    _checked(port, "DELETE", f"/api/projects/{project_id}/")

