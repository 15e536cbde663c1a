"""`make bench`: run the S10 benchmarks (P1-P5) on PostgreSQL and write bench/results/latest.json and latest.md.

Options come from the environment (see bench/README.md): SCALE, BENCH_DATA, P2_SECONDS, P2_THINK, ONLY (among
CHOICES), MERGE, BENCH_SEED, P1_TIMEOUT, P5_SEEDS, P5_POOL, P5_LABELS, P5_STRATEGIES, P5_CATALOGS.
Exit status 0 when every selected benchmark ran (PASS or SHORT), 1 when one failed.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench import data
from bench.common import (
    DATA_DIR,
    RESULTS_DIR,
    BenchError,
    check_server,
    django_setup,
    env_float,
    env_int,
    log,
    recreate_database,
)
from bench.report import markdown

CHOICES = ("p1", "p2", "p2m", "p2r", "p2s", "p2t", "p3", "p4", "p5", "p6", "p7", "p9")


def _selected() -> list[str]:
    raw = os.environ.get("ONLY", "").strip()
    chosen = [item.strip().lower() for item in raw.split(",") if item.strip()] if raw else list(CHOICES)
    unknown = sorted(set(chosen) - set(CHOICES))
    if unknown:
        raise BenchError(f"ONLY={raw!r}: unknown {', '.join(unknown)}; choose among {', '.join(CHOICES)}")
    return [item for item in CHOICES if item in chosen]


def _parameters(scale: int, only: list[str]) -> dict[str, object]:
    return {
        "SCALE": scale,
        "ONLY": ",".join(only),
        "P2_SECONDS": env_float("P2_SECONDS", 30.0),
        "P2_THINK": env_float("P2_THINK", 1.0),
        "BENCH_SEED": env_int("BENCH_SEED", 42),
        "P1_TIMEOUT": env_int("P1_TIMEOUT", 900),
        "P5_SEEDS": env_int("P5_SEEDS", 3),
        "P5_POOL": env_int("P5_POOL", 10_000),
        "P5_LABELS": env_int("P5_LABELS", 1000),
        "P5_STRATEGIES": os.environ.get("P5_STRATEGIES", "margin"),
        "P5_CATALOGS": os.environ.get("P5_CATALOGS", "pricerunner,pricerunner-cooling,wdc4"),
        "source": str(data.source_path() or "workspace.demo.demo_products (no real catalog found)"),
    }


def _machine(postgres: str) -> dict[str, object]:
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "postgres": postgres.split(" on ")[0],
        "postgres_full": postgres,
    }


def _write(results: dict, *, interrupted: bool) -> tuple[str, Path]:
    """latest.json + latest.md; an interrupted run goes to bench/data/interrupted.* and keeps the last results."""
    folder, stem = (DATA_DIR, "interrupted") if interrupted else (RESULTS_DIR, "latest")
    folder.mkdir(parents=True, exist_ok=True)
    text = markdown(results)
    for name, content in ((f"{stem}.json", json.dumps(results, indent=2) + "\n"), (f"{stem}.md", text)):
        partial = folder / f"{name}.tmp"
        partial.write_text(content, encoding="utf-8")
        partial.replace(folder / name)
    return text, folder / f"{stem}.json"


def main() -> int:
    started = time.perf_counter()
    try:
        scale = env_int("SCALE", 100_000)
        only = _selected()
        if scale < 10_000:
            raise BenchError(f"SCALE={scale:,} is below the 10,000 products P2 compares against")
        postgres = check_server()
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    results: dict[str, object] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": _machine(postgres),
        "parameters": _parameters(scale, only),
        "failures": [],
    }
    log(f"SCALE={scale:,}, running {', '.join(only)} on {results['machine']['postgres']}")
    path = None
    if {"p1", "p2", "p2m", "p2r", "p2s", "p3", "p4", "p6", "p7"} & set(only):  # P5 samples the real catalogs itself
        path = data.catalog(scale)
        results["catalog"] = data.describe(path)
    log(f"recreating and migrating the bench database ({recreate_database():.1f} s)")
    django_setup()
    interrupted = False
    try:
        if "p1" in only:
            results["p1"] = _attempt("p1", results, lambda: _p1(path, scale))
        if "p2" in only:
            results["p2"] = _attempt("p2", results, lambda: _p2(scale))
        if "p2m" in only:
            results["p2m"] = _attempt("p2m", results, lambda: _p2m(scale))
        if "p2r" in only:
            results["p2r"] = _attempt("p2r", results, lambda: _p2r(scale))
        if "p2s" in only:
            results["p2s"] = _attempt("p2s", results, lambda: _p2s(scale))
        if "p2t" in only:
            results["p2t"] = _attempt("p2t", results, lambda: _p2t(scale))
        if "p3" in only:
            results["p3"] = _attempt("p3", results, lambda: _p3(path, scale))
        if "p4" in only:
            results["p4"] = _attempt("p4", results, lambda: _p4(path, scale))
        if "p5" in only:
            results["p5"] = _attempt("p5", results, _p5)
        if "p6" in only:
            results["p6"] = _attempt("p6", results, lambda: _p6(path, scale))
        if "p7" in only:
            results["p7"] = _attempt("p7", results, lambda: _p7(path, scale))
        if "p9" in only:
            results["p9"] = _attempt("p9", results, lambda: _p9(scale))
    except KeyboardInterrupt:
        interrupted = True
        results["failures"].append("interrupted (Ctrl-C): the figures are incomplete")
    finally:
        results = {key: value for key, value in results.items() if value is not None}
        results["total_seconds"] = round(time.perf_counter() - started, 1)
        if os.environ.get("MERGE", "").strip() not in ("", "0") and not interrupted:
            results = _merged(results)
        text, written = _write(results, interrupted=interrupted)
    print()
    print(text)
    log(f"wrote {written} and its .md in {results['total_seconds']:.0f} s")
    return 130 if interrupted else (1 if results["failures"] else 0)


def _merged(results: dict) -> dict:
    """MERGE=1: keep the figures of the benchmarks this run skipped from latest.json, each with its own date."""
    previous_path = RESULTS_DIR / "latest.json"
    if not previous_path.is_file():
        return results
    previous = json.loads(previous_path.read_text(encoding="utf-8"))
    for name in CHOICES:
        if name in results:
            results[name]["measured"] = results["date"]
        elif name in previous:
            results[name] = {**previous[name], "measured": previous[name].get("measured", previous["date"])}
    return results


def _attempt(name: str, results: dict, step) -> dict | None:
    """Run one benchmark; a failure is recorded (and the next one still runs)."""
    try:
        return step()
    except Exception as error:  # recorded in the results; the traceback goes to stderr
        traceback.print_exc()
        results["failures"].append(f"{name} failed: {error}")
        return None


def _p1(path, scale: int) -> dict:
    from bench import p1_import

    log(f"P1: import {scale:,} rows vs psql \\copy")
    return p1_import.run(path, scale)


def _p2(scale: int) -> dict:
    from bench import p2_queue

    scales = "10,000" if scale == p2_queue.SMALL else f"10,000 and {scale:,}"
    log(f"P2: next + submit over HTTP at {scales} products")
    return p2_queue.run(scale)


def _p2m(scale: int) -> dict:
    from bench import p2_matching

    log(f"P2m: next + submit of pairs over HTTP at 10,000 and {scale:,} pairs")
    return p2_matching.run(scale)


def _p2r(scale: int) -> dict:
    from bench import p2_relevance

    log(f"P2r: next + submit of relevance judgments over HTTP at 10,000 and {scale:,} (query, product) tasks")
    return p2_relevance.run(scale)


def _p2s(scale: int) -> dict:
    from bench import p2_spans

    log(f"P2s: next + submit of attribute spans over HTTP at 10,000 and {scale:,} products")
    return p2_spans.run(scale)


def _p2t(scale: int) -> dict:
    from bench import p12_submit_during_training

    log("P2t: next + submit while a training run trains and rescores, on SQLite and on PostgreSQL")
    return p12_submit_during_training.run(scale)


def _p3(path, scale: int) -> dict:
    from bench import p3_retrain

    log(f"P3: train on {p3_retrain.LABELS:,} labels, rescore {scale:,} products and update the queue")
    return p3_retrain.run(path, scale)


def _p4(path, scale: int) -> dict:
    from bench import p4_export

    log(f"P4: export {scale:,} labeled products as JSONL")
    return p4_export.run(path, scale)


def _p5() -> dict:
    from bench import p5_active

    log("P5: labels active learning needs to match random order at 1,000 labels")
    return p5_active.run()


def _p6(path, scale: int) -> dict:
    from bench import p6_blocking

    log(f"P6: candidate pairs (blocking) for {scale:,} products, written as tasks")
    return p6_blocking.run(path, scale)


def _p7(path, scale: int) -> dict:
    from bench import p7_pair_rescore

    log("P7: rescore 1M open candidate pairs with a trained matcher")
    return p7_pair_rescore.run(path, scale)


def _p9(scale: int) -> dict:
    from bench import p9_candidates

    log("P9: BM25 candidates for 10k queries, and the rankers' nDCG@10 on PriceRunner")
    return p9_candidates.run(scale)


if __name__ == "__main__":
    sys.exit(main())
