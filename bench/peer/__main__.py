"""`make bench-peer`: Shelfmark and Label Studio side by side, one run, the same PriceRunner workload.

See bench/README.md ("Side by side with Label Studio"). Writes bench/results/peer.json and peer.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

from bench import data
from bench.common import (
    DB_NAME,
    RESULTS_DIR,
    ROOT,
    BenchError,
    check_server,
    django_setup,
    env_float,
    log,
    recreate_database,
)
from bench.peer import labelstudio, shelfmark
from bench.peer.table import FIGURES, growth, ratio, side_by_side
from bench.run import _machine

NOTES = """
How each side is measured (same machine, same PostgreSQL server, each app on its own database, both under
gunicorn with Shelfmark's production workers and threads (gunicorn.conf.py: 2 x CPUs + 1 processes of one thread,
gthread; 3 x 4 before issue 16's change), on loopback; one side runs at a time):

- import: Shelfmark `manage.py import_products` of the CSV: the import job's own time (file stored, parsed,
  products and tasks written; the second row adds the command's Django start-up, the process's wall clock);
  Label Studio one `POST /api/projects/{id}/import` of the same rows as JSON tasks (built before the clock),
  until it answered and `GET /api/projects/{id}` counts every task.
- next + submit: 16 annotator threads, each with its own account, token and keep-alive connection, for
  `PEER_SECONDS` after 5 s of warm-up, `PEER_THINK` seconds between receiving a task and answering it.
  Shelfmark: `POST /api/datasets/{id}/tasks/next/` + `POST /api/tasks/{id}/submit/` on a dataset loaded as P2
  loads it; Label Studio: `GET /api/projects/{id}/next` + `POST /api/tasks/{id}/annotations/` (a choices
  result) on the imported project, after `VACUUM (ANALYZE)` as P2 does for Shelfmark. Pair latency = next +
  submit, think time excluded. With `PEER_THINK=0` (the default) both servers are saturated: pairs/s is their
  capacity, and a pair's latency is mostly waiting (about 16 / pairs/s). Label Studio's 16 accounts are made
  with its own models (its open-source API has no user creation).
- export: every product labeled once first (setup: one INSERT for Shelfmark as P4 does; Label Studio's own
  models, bulk). Shelfmark: `export_run`, what its worker runs (JSONL into storage, in a child process);
  Label Studio: `GET /api/projects/{id}/export?exportType=JSON&download_all_tasks=true`, its synchronous export,
  until the body is read.
- Label Studio runs with `LATEST_VERSION_CHECK=false`, `COLLECT_ANALYTICS=false`, empty `SENTRY_DSN` and
  `FRONTEND_SENTRY_DSN`, `DEBUG=false`, in its own virtualenv (bench/data/peer-venv).
"""


def _scales() -> list[int]:
    raw = os.environ.get("PEER_SCALES", "10000,100000")
    scales = sorted({int(part.strip().replace("_", "")) for part in raw.split(",") if part.strip()})
    if not scales or scales[0] < 100:
        raise BenchError(f"PEER_SCALES={raw!r}: give catalog sizes of at least 100, e.g. 10000,100000")
    return scales


def _shelfmark_version() -> str:
    done = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    return done.stdout.strip() or "unknown"


def _peer_figures(imported: dict, queue: dict, exported: dict) -> dict:
    return {
        "import": imported, "queue": queue, "export": exported,
        "import_rows_per_s": imported["rows_per_s"],
        "import_rows_per_s_with_startup": imported["rows_per_s"],  # its server was already running
        "pairs_per_s": queue["pairs_per_s"],
        "pair_p50_ms": queue["pair"]["p50_ms"],
        "pair_p95_ms": queue["pair"]["p95_ms"],
        "export_rows_per_s": exported["rows_per_s"],
    }


def _label_studio(rows: int, path, tokens: list[str], seconds: float, think: float, *, last: bool) -> dict:
    server = labelstudio.server(str(rows))
    try:
        server.start(timeout=300)
        imported = labelstudio.import_catalog(server.port, path, rows)
        queue = labelstudio.queue(server.port, imported["project_id"], tokens, seconds, think)
        exported = labelstudio.export(server.port, imported["project_id"])
        if not last:  # the next scale's project is alone (the database is recreated by the next run anyway)
            labelstudio.delete_project(server.port, imported["project_id"])
    finally:
        server.stop()
    return _peer_figures(imported, queue, exported)


def markdown(results: dict) -> str:
    machine, params = results["machine"], results["parameters"]
    lines = [
        "# Shelfmark and Label Studio side by side (`make bench-peer`)",
        "",
        f"Measured {results['date']} in one run: Shelfmark {results['versions']['shelfmark']}, "
        f"Label Studio {results['versions']['label_studio']}; {machine['cpu_count']} CPUs, Python "
        f"{machine['python']}, {machine['postgres']}. Load average (1 min) at the start: "
        f"{results['loadavg_start']}, at the end: {results.get('loadavg_end', 'n/a')}.",
        f"Parameters: PEER_SCALES={params['PEER_SCALES']}, PEER_SECONDS={params['PEER_SECONDS']}, "
        f"PEER_THINK={params['PEER_THINK']}, 16 annotators. Source: {params['source']}.",
        "",
        *side_by_side(results["scales"]),
        "",
    ]
    loads = [results["loadavg_start"], results.get("loadavg_end") or 0]
    if max(loads) > machine["cpu_count"]:
        lines += [f"The machine was loaded by other work (load average above its {machine['cpu_count']} CPUs): "
                  "the load varied during the run, so the absolute figures and the smaller ratios are noisy.", ""]
    grown = results.get("pair_p95_growth") or {}
    if grown:
        lines += [f"Pair p95 at the largest scale over the smallest: Shelfmark {grown.get('shelfmark')}x, "
                  f"Label Studio {grown.get('label_studio')}x.", ""]
    if results.get("failures"):
        lines += ["Failures: " + "; ".join(results["failures"]), ""]
    lines.append(NOTES.strip())
    return "\n".join(lines) + "\n"


def _write(results: dict) -> None:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    for name, content in (("peer.json", json.dumps(results, indent=2) + "\n"), ("peer.md", markdown(results))):
        partial = RESULTS_DIR / f"{name}.tmp"
        partial.write_text(content, encoding="utf-8")
        partial.replace(RESULTS_DIR / name)


def main() -> int:
    if sys.argv[1:] == ["--report"]:  # rewrite peer.md from peer.json
        _write(json.loads((RESULTS_DIR / "peer.json").read_text(encoding="utf-8")))
        return 0
    started = time.perf_counter()
    try:
        scales = _scales()
        seconds, think = env_float("PEER_SECONDS", 30.0), env_float("PEER_THINK", 0.0)
        postgres = check_server()
        version = labelstudio.ensure_installed()
        tokens = labelstudio.recreate()
        log(f"Shelfmark database {DB_NAME}: recreated and migrated in {recreate_database():.0f} s")
        django_setup()
    except BenchError as error:
        print(f"bench-peer: {error}", file=sys.stderr)
        return 1
    results: dict = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": _machine(postgres),
        "versions": {"shelfmark": _shelfmark_version(), "label_studio": version},
        "parameters": {"PEER_SCALES": ",".join(map(str, scales)), "PEER_SECONDS": seconds, "PEER_THINK": think,
                       "source": str(data.source_path() or "workspace.demo.demo_products")},
        "loadavg_start": round(os.getloadavg()[0], 2),
        "scales": {},
        "failures": [],
    }
    try:
        for rows in scales:
            path = data.catalog(rows)
            log(f"{rows:,} products: Shelfmark")
            ours = shelfmark.run_scale(path, rows, seconds, think)
            # Shelfmark's figures are kept even if Label Studio's side fails or is interrupted.
            results["scales"][str(rows)] = {"shelfmark": ours, "label_studio": {}, "ratios": {}}
            _write(results)
            log(f"{rows:,} products: Label Studio")
            theirs = _label_studio(rows, path, tokens, seconds, think, last=rows == scales[-1])
            results["scales"][str(rows)].update({
                "label_studio": theirs,
                "ratios": {key: ratio(key, ours.get(key), theirs.get(key)) for key, _, _ in FIGURES},
            })
            results["pair_p95_growth"] = growth(results["scales"])
            results["loadavg_end"] = round(os.getloadavg()[0], 2)
            _write(results)
    except (BenchError, OSError, ValueError) as error:
        results["failures"].append(f"{type(error).__name__}: {error}")
        _write(results)
        print(f"bench-peer: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        results["failures"].append("interrupted")
        _write(results)
        return 130
    print(markdown(results))
    log(f"bench-peer done in {time.perf_counter() - started:.0f} s: bench/results/peer.md and peer.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
