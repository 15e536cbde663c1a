"""Evidence for P2: lock waits sampled during the run; the SQL of one next + submit and the claim query's plan."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter

from bench.common import database_url
from bench.p2_setup import QueueSetup
from config.sql_rows import statement_source

SQL_SHOWN = 220


class _Rollback(Exception):
    pass


class _Timer:
    """A connection.execute_wrapper: each statement's SQL, parameters and wall time (perf_counter)."""

    def __init__(self) -> None:
        self.queries: list[tuple[str, object, float]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((sql, params, time.perf_counter() - started))

    def report(self) -> list[dict[str, object]]:
        # A prepared statement is captured as `EXECUTE shelfmark_...`: the report shows what it runs.
        return [{"ms": round(seconds * 1000, 3), "sql": statement_source(sql)[:SQL_SHOWN]}
                for sql, _, seconds in self.queries]


def _explain(sql: str, params: object) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of a captured statement, in a transaction rolled back (it may lock rows)."""
    from django.db import connection, transaction

    plan: list[str] = []
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = [row[0] for row in cursor.fetchall()]
            raise _Rollback
    except _Rollback:
        pass
    return plan


def _timed(client, path: str, body: dict | None = None) -> tuple[object, float, _Timer]:
    from django.db import connection

    timer = _Timer()
    with connection.execute_wrapper(timer):
        started = time.perf_counter()
        response = client.post(path, data=json.dumps(body or {}), content_type="application/json")
        seconds = time.perf_counter() - started
    return response, seconds, timer


def diagnose(setup: QueueSetup, user) -> dict[str, object]:
    """Query counts and times of a next + submit for one annotator; the plan of the claim query of next."""
    from django.test import Client
    from rest_framework.authtoken.models import Token

    token = Token.objects.get(user=user).key
    client = Client(SERVER_NAME="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token}")
    next_path = f"/api/datasets/{setup.dataset_id}/tasks/next/"
    rng = random.Random(0)
    report: dict[str, object] = {"user": user.username}
    for round_ in ("warm", "measured"):
        response, next_seconds, next_queries = _timed(client, next_path)
        if response.status_code != 200:
            return {**report, "error": f"next answered {response.status_code}: {response.content[:300]!r}"}
        task = response.json()
        response, submit_seconds, submit_queries = _timed(
            client, f"/api/tasks/{task['id']}/submit/", setup.answer_for(task, rng)
        )
        if response.status_code != 201:
            return {**report, "error": f"submit answered {response.status_code}: {response.content[:300]!r}"}
        if round_ == "measured":
            report.update({
                "next_ms": round(next_seconds * 1000, 2),
                "next_query_count": len(next_queries.queries),
                "next_db_ms": round(sum(query[2] for query in next_queries.queries) * 1000, 2),
                "next_queries": next_queries.report(),
                "submit_ms": round(submit_seconds * 1000, 2),
                "submit_query_count": len(submit_queries.queries),
                "submit_db_ms": round(sum(query[2] for query in submit_queries.queries) * 1000, 2),
                "submit_queries": submit_queries.report(),
            })
    # The claim (SELECT ... FOR UPDATE SKIP LOCKED over the open tasks) is the statement that sees the queue's size.
    # EXPLAIN of the executed form: a prepared claim is explained as PostgreSQL runs it (EXPLAIN EXECUTE).
    claims = [query for query in next_queries.queries if "SKIP LOCKED" in statement_source(query[0])]
    sql, params, _ = claims[0] if claims else max(next_queries.queries, key=lambda query: query[2])
    report["next_claim_sql"] = statement_source(sql)
    report["next_claim_plan"] = _explain(sql, params)
    return report


class LockSampler(threading.Thread):
    """Samples pg_locks every 50 ms during the measured window: which lock waits the annotators hit."""

    QUERY = """
        SELECT l.locktype, coalesce(l.relation::regclass::text, ''), l.mode
        FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE NOT l.granted AND a.datname = current_database()
    """

    def __init__(self, start_at: float, until: float) -> None:
        super().__init__(daemon=True)
        self.start_at, self.until = start_at, until
        self.samples = 0
        self.waiting_samples = 0
        self.waiters = 0
        self.by_lock: Counter[str] = Counter()

    def run(self) -> None:
        import psycopg2

        connection = psycopg2.connect(database_url())
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                time.sleep(max(0.0, self.start_at - time.perf_counter()))
                while time.perf_counter() < self.until:
                    cursor.execute(self.QUERY)
                    rows = cursor.fetchall()
                    self.samples += 1
                    self.waiting_samples += bool(rows)
                    self.waiters += len(rows)
                    self.by_lock.update(" ".join(part for part in row if part) for row in rows)
                    time.sleep(0.05)
        finally:
            connection.close()

    def report(self) -> dict[str, object]:
        samples = max(self.samples, 1)
        return {
            "samples": self.samples,
            "share_of_samples_with_a_wait": round(self.waiting_samples / samples, 3),
            "mean_waiting_backends": round(self.waiters / samples, 2),
            "top_waits": dict(self.by_lock.most_common(6)),
        }
