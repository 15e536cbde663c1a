"""P2: next task + submit over HTTP, 16 concurrent annotators, at 10k products and at SCALE products.

Each annotator thread has its own keep-alive connection and token and loops: POST next, think, POST
submit. The first WARMUP seconds are discarded, then P2_SECONDS are measured. Latencies are per
request (next, submit) and per pair (next + submit, think time excluded).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import data
from bench.common import env_float, env_int, latency_summary, log
from bench.p2_diagnose import LockSampler, diagnose
from bench.p2_setup import QueueSetup, Server, annotators, load_dataset, reset

SMALL = 10_000
WARMUP = 5.0
TARGET_P95_MS = 50.0
# Issue 16's targets, against the physical limits rather than S10: the pair's p95 and the statements of each request.
TARGET_P95_MS_FLOOR = 25.0
TARGET_QUERIES = (3, 4)  # per next, per submit
TARGET_RATIO = 1.5
MAX_ERROR_BODIES = 5


@dataclass
class Recorder:
    """What the threads measured, shared under one lock (appends are rare next to request times)."""

    measure_from: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_s: list[float] = field(default_factory=list)
    submit_s: list[float] = field(default_factory=list)
    pair_s: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    error_bodies: list[str] = field(default_factory=list)
    empty: int = 0  # 204: the queue had nothing left for that annotator
    reconnects: int = 0

    def error(self, kind: str, measured: bool, text: str) -> None:
        with self.lock:
            if measured:
                self.errors[kind] = self.errors.get(kind, 0) + 1
            if len(self.error_bodies) < MAX_ERROR_BODIES:
                self.error_bodies.append(f"{kind}: {text[:500]}")


class Annotator(threading.Thread):
    def __init__(self, port: int, token: str, setup: QueueSetup, recorder: Recorder, until: float, think: float,
                 seed: int) -> None:
        super().__init__(daemon=True)
        self.port, self.setup, self.recorder, self.until, self.think = port, setup, recorder, until, think
        self.headers = {"Authorization": f"Token {token}", "Host": "127.0.0.1", "Accept": "application/json"}
        self.rng = random.Random(seed)
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def _post(self, path: str, body: dict | None) -> tuple[int, bytes, float]:
        return self._send("POST", path, body)

    def _send(self, method: str, path: str, body: dict | None) -> tuple[int, bytes, float]:
        """One request on the kept connection: status, body and seconds (bench.peer sends GETs too)."""
        payload = json.dumps(body).encode() if body is not None else b""
        headers = {**self.headers, "Content-Type": "application/json", "Content-Length": str(len(payload))}
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.connection.request(method, path, body=payload, headers=headers)
                response = self.connection.getresponse()
                content = response.read()
                return response.status, content, time.perf_counter() - started
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: reconnect once (counted, not timed).
                self.connection.close()
                with self.recorder.lock:
                    self.recorder.reconnects += 1
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    # What the server answers when the queue has nothing left for the annotator (bench.peer's Label Studio: 404).
    empty_status = 204

    def _next(self) -> tuple[int, bytes, float]:
        return self._post(f"/api/datasets/{self.setup.dataset_id}/tasks/next/", None)

    def _submit(self, task: dict, next_s: float) -> tuple[int, bytes, float]:
        body = {**self.setup.answer_for(task, self.rng), "active_seconds": round(self.think + next_s, 3)}
        return self._post(f"/api/tasks/{task['id']}/submit/", body)

    def run(self) -> None:
        recorder = self.recorder
        try:
            while time.perf_counter() < self.until:
                measured = time.perf_counter() >= recorder.measure_from
                status, content, next_s = self._next()
                if status == self.empty_status:
                    with recorder.lock:
                        recorder.empty += 1
                    return
                if not 200 <= status < 300:
                    recorder.error("next", measured, f"{status} {content.decode(errors='replace')}")
                    time.sleep(self.think)
                    continue
                task = json.loads(content)
                time.sleep(self.think)
                status, content, submit_s = self._submit(task, next_s)
                ok = 200 <= status < 300
                if not ok:
                    recorder.error("submit", measured, f"{status} {content.decode(errors='replace')}")
                if measured:
                    with recorder.lock:
                        recorder.next_s.append(next_s)
                        if ok:
                            recorder.submit_s.append(submit_s)
                            recorder.pair_s.append(next_s + submit_s)
        except Exception as error:
            recorder.error("client", True, f"{type(error).__name__}: {error}")
        finally:
            self.connection.close()


def _measure(setup: QueueSetup, name: str, seconds: float, think: float) -> dict[str, object]:
    server = Server(name)
    try:
        server.start()
        cpu_before, load_before = os.times(), os.getloadavg()
        start = time.perf_counter()
        recorder = Recorder(measure_from=start + WARMUP)
        until = start + WARMUP + seconds
        threads = [Annotator(server.port, token, setup, recorder, until, think, seed=n)
                   for n, token in enumerate(setup.tokens)]
        sampler = LockSampler(recorder.measure_from, until)
        for thread in [*threads, sampler]:
            thread.start()
        for thread in [*threads, sampler]:
            thread.join(timeout=WARMUP + seconds + 120)
        stuck = sum(thread.is_alive() for thread in threads)
        cpu_after = os.times()
    finally:
        server.stop()
    pairs = latency_summary(recorder.pair_s)
    result = {
        "products": setup.products,
        "dataset_id": setup.dataset_id,
        "setup_seconds": round(setup.seconds, 1),
        "measured_seconds": seconds,
        "next": latency_summary(recorder.next_s),
        "submit": latency_summary(recorder.submit_s),
        "pair": pairs,
        "pairs_per_s": round(len(recorder.pair_s) / seconds, 1),
        "errors": recorder.errors,
        "error_count": sum(recorder.errors.values()),
        "first_errors": recorder.error_bodies,
        "empty_queue_204": recorder.empty,
        "reconnects": recorder.reconnects,
        "stuck_threads": stuck,
        "client_cpu_seconds": round(sum(cpu_after[:2]) - sum(cpu_before[:2]), 1),
        "loadavg_1m_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "lock_waits": sampler.report(),
    }
    log(f"{name} ({setup.products:,} tasks): pair p50 {pairs['p50_ms']} ms, p95 {pairs['p95_ms']} ms, "
        f"p99 {pairs['p99_ms']} ms over {pairs['count']:,} pairs; {result['error_count']} errors")
    for body in recorder.error_bodies:
        log(f"  first errors: {body}")
    return result


def run(scale: int, *, load: Callable[[Path, list], QueueSetup] = load_dataset, name: str = "p2") -> dict[str, object]:
    """Measure at 10k and at `scale` tasks made by `load` from a catalog of as many rows (a kind's setup: P2's
    products, p2_matching's pairs, p2_relevance's (query, product) pairs, p2_spans' titles), each answered as
    the setup's `answer` says."""
    seconds = env_float("P2_SECONDS", 30.0)
    think = env_float("P2_THINK", 1.0)
    reset()
    users = annotators()
    results: dict[str, object] = {"annotators": len(users), "warmup_seconds": WARMUP, "think_seconds": think}
    scales = [SMALL] if scale == SMALL else [SMALL, scale]
    for count in scales:
        setup = load(data.catalog(count), users)
        measured = _measure(setup, f"{name}-{count}", seconds, think)
        measured["diagnostics"] = diagnose(setup, users[0])
        results[str(count)] = measured
    small = results[str(SMALL)]["pair"]["p95_ms"]
    large = results[str(scale)]["pair"]["p95_ms"]
    ratio = round(large / small, 3) if small and large else None
    diagnosed = results[str(scale)].get("diagnostics") or {}
    results.update({
        "scale": scale,
        "pair_p95_ms_at_scale": large,
        "pair_p95_ms_at_10k": small,
        "ratio": ratio,
        "target_p95_ms": TARGET_P95_MS,
        "target_ratio": TARGET_RATIO,
        "pass_p95": bool(large is not None and large < TARGET_P95_MS and not results[str(scale)]["error_count"]),
        "pass_ratio": bool(ratio is not None and ratio <= TARGET_RATIO),
        "target_p95_ms_floor": TARGET_P95_MS_FLOOR,
        "pass_p95_floor": bool(
            large is not None and large < TARGET_P95_MS_FLOOR and not results[str(scale)]["error_count"]
        ),
        "queries_at_scale": [diagnosed.get("next_query_count"), diagnosed.get("submit_query_count")],
        "target_queries": list(TARGET_QUERIES),
        "pass_queries": bool(
            diagnosed.get("next_query_count") is not None
            and diagnosed.get("submit_query_count") is not None
            and diagnosed["next_query_count"] <= TARGET_QUERIES[0]
            and diagnosed["submit_query_count"] <= TARGET_QUERIES[1]
        ),
        "seed": env_int("BENCH_SEED", 42),
    })
    return results
