"""Shelfmark's side of the side-by-side bench: P1's import, P2's next + submit and P4's export, reused as they are."""

from __future__ import annotations

from pathlib import Path

from bench import p1_import, p2_queue, p2_setup, p4_export
from bench.common import env_int, log


def run_scale(path: Path, rows: int, seconds: float, think: float) -> dict:
    """Import (`manage.py import_products`, wall clock of the process), next + submit over HTTP with 16 annotators
    under gunicorn (P2's setup and measurement), and the JSONL export of every product labeled once (P4)."""
    p2_setup.reset()
    imported = p1_import._import(path, rows, env_int("P1_TIMEOUT", 900))
    p2_setup.reset()
    users = p2_setup.annotators()
    queue = p2_queue._measure(p2_setup.load_dataset(path, users), f"peer-{rows}", seconds, think)
    p2_setup.reset()  # a fresh load for the export, as P4 does: every product labeled once, none twice
    users = p2_setup.annotators()
    setup = p2_setup.load_dataset(path, users)
    p4_export.label_everything(setup.dataset_id, users)
    exported = p4_export.export_once(setup.dataset_id, "jsonl")
    log(f"Shelfmark export: {exported['rows']:,} rows in {exported['seconds']:.1f} s "
        f"({exported['rows_per_s']:,.0f} rows/s)")
    # The job's own time (file stored, parsed, products and tasks written) compares with Label Studio's import
    # request to a running server; the command's wall clock adds Django's start-up, reported beside it.
    job_seconds = (imported.get("store_file_seconds") or 0) + (imported.get("job_run_seconds") or 0)
    return {
        "import": imported,
        "queue": queue,
        "export": exported,
        "import_rows_per_s": round(rows / job_seconds, 1) if job_seconds else None,
        "import_rows_per_s_with_startup": imported.get("rows_per_s"),
        "pairs_per_s": queue["pairs_per_s"],
        "pair_p50_ms": queue["pair"]["p50_ms"],
        "pair_p95_ms": queue["pair"]["p95_ms"],
        "export_rows_per_s": round(exported["rows_per_s"], 1),
    }
