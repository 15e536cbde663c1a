"""bench/results/latest.md: each figure against its S10 target, PASS or SHORT, then the details."""

from __future__ import annotations

MILLION = 1_000_000


def _n(value: object, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "SHORT"


def _p1_rows(p1: dict) -> list[str]:
    note = "" if p1["rows"] == MILLION else f" (at {p1['rows']:,} rows; the target is at 1M)"
    imported = p1["import"]
    if imported.get("timed_out"):
        note += f"; import stopped after {imported['seconds']:.0f} s at {_n(imported.get('records_done'))} rows"
    return [
        f"| P1 | import rows/s / `psql \\copy` rows/s{note} | {_n(p1['ratio'], 3)} "
        f"({_n(p1['import_rows_per_s'])} vs {_n(p1['copy_rows_per_s'])} rows/s) | >= {p1['target_ratio']} "
        f"| {_verdict(p1['pass'])} |",
        *_p1_floor_rows(p1, note),
        *_p1_label_row(p1, note),
    ]


def _p1_floor_rows(p1: dict, note: str) -> list[str]:
    """The schema's floor (COPY alone into the products and tasks tables): what part of `psql \\copy` into one bare
    table any import can reach, and what part of the floor Shelfmark's import reaches. Measures, not targets."""
    floor = p1.get("floor")
    if not floor:  # results written before the floor was measured
        return []
    rows = [
        f"| P1 | floor: the same rows COPYed straight into the products and tasks tables rows/s / `psql \\copy` "
        f"rows/s{note} | {_n(p1['floor_ratio'], 3)} ({_n(floor['rows_per_s'])} vs {_n(p1['copy_rows_per_s'])} rows/s)"
        f" | (the most any import reaches) | - |",
        f"| P1 | import rows/s / floor rows/s{note} | {_n(p1['import_floor_ratio'], 3)} "
        f"({_n(p1['import_rows_per_s'])} vs {_n(floor['rows_per_s'])} rows/s) | (measure) | - |",
    ]
    if p1.get("products_floor_ratio"):  # results written before the floor was timed per table have none
        rows.append(
            f"| P1 | floor of the products' COPY alone (no task rows at all) rows/s / `psql \\copy` rows/s{note} "
            f"| {_n(p1['products_floor_ratio'], 3)} ({_n(floor['products_rows_per_s'])} vs "
            f"{_n(p1['copy_rows_per_s'])} rows/s) | (the most an import without task rows reaches) | - |"
        )
    return rows


def _p1_label_row(p1: dict, note: str) -> list[str]:
    labeled = p1.get("labeled_import")
    if not labeled:  # results written before the labeled import was measured
        return []
    return [
        f"| P1 | import with its category as labels rows/s / plain import rows/s{note} | {_n(p1['label_ratio'], 3)} "
        f"({_n(labeled['rows_per_s'])} vs {_n(p1['import_rows_per_s'])} rows/s) | >= {p1['label_target_ratio']} "
        f"| {_verdict(p1['label_pass'])} |"
    ]


# P2 for each task kind: results key, row name, what its tasks are in the summary and in the details' tables.
P2_KINDS = (
    ("p2", "P2", "products", "products"),
    ("p2m", "P2m", "pairs (matching)", "pairs"),
    ("p2r", "P2r", "(query, product) tasks (relevance)", "tasks"),
    ("p2s", "P2s", "products (attribute spans)", "titles"),
)


def _p2_rows(p2: dict, name: str = "P2", unit: str = "products") -> list[str]:
    scale = p2["scale"]
    note = "" if scale == MILLION else f" (at {scale:,}; the target is at 1M)"
    return [
        f"| {name} | next + submit p95, 16 annotators, {scale:,} {unit}{note} | {_n(p2['pair_p95_ms_at_scale'], 1)} ms "
        f"| < {p2['target_p95_ms']:.0f} ms | {_verdict(p2['pass_p95'])} |",
        f"| {name} | p95 at {scale:,} / p95 at 10,000 | {_n(p2['ratio'], 2)} "
        f"({_n(p2['pair_p95_ms_at_scale'], 1)} / {_n(p2['pair_p95_ms_at_10k'], 1)} ms) "
        f"| <= {p2['target_ratio']} | {_verdict(p2['pass_ratio'])} |",
        *_p2_floor_rows(p2, name),
    ]


def _p2_floor_rows(p2: dict, name: str) -> list[str]:
    """Issue 16's targets: the pair's p95 near the floor, and the statements of one next and one submit."""
    if "target_p95_ms_floor" not in p2:  # a result written before they were measured
        return []
    next_count, submit_count = p2["queries_at_scale"]
    most_next, most_submit = p2["target_queries"]
    return [
        f"| {name} | next + submit p95 at {p2['scale']:,}, issue 16's target | {_n(p2['pair_p95_ms_at_scale'], 1)} ms "
        f"| < {p2['target_p95_ms_floor']:.0f} ms | {_verdict(p2['pass_p95_floor'])} |",
        f"| {name} | statements per next / submit (in-process, at {p2['scale']:,}) | {_n(next_count)} / "
        f"{_n(submit_count)} | <= {most_next} / <= {most_submit} | {_verdict(p2['pass_queries'])} |",
    ]


def _p4_rows(p4: dict) -> list[str]:
    note = "" if p4["labeled"] == MILLION else f" (at {p4['labeled']:,}; the target is at 1M)"
    jsonl = p4["jsonl"]
    return [
        f"| P4 | export {jsonl['rows']:,} labeled rows as JSONL (final labels){note} "
        f"| {_n(jsonl['rows_per_s'])} rows/s, peak {jsonl['peak_mb']:.0f} MB "
        f"| >= {p4['target_rows_per_s']:,} rows/s, < {p4['target_peak_mb']} MB | {_verdict(p4['pass'])} |"
    ]


def _p4_details(p4: dict) -> list[str]:
    lines = [
        "", f"### P4: one snapshot of {p4['labeled']:,} labeled products, built as the worker builds it", "",
        "| export | rows | seconds | rows/s | file MB | peak RSS MB (Django alone) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, label in (("jsonl", "JSONL, final labels"), ("jsonl_split", "JSONL + stratified 0.8/0.1/0.1 split")):
        run = p4[name]
        lines.append(
            f"| {label} | {run['rows']:,} | {run['seconds']:.1f} | {_n(run['rows_per_s'])} "
            f"| {run['bytes'] / 1e6:,.0f} | {run['peak_mb']:.0f} ({run['baseline_mb']:.0f}) |"
        )
    return lines


def _p3_rows(p3: dict) -> list[str]:
    note = "" if p3["products"] == MILLION else f" (at {p3['products']:,}; the target is at 1M)"
    return [
        f"| P3 | train on {p3['labels']:,} labels + rescore {p3['scored']:,} open tasks + queue update{note} "
        f"| {p3['total_s']:.1f} s (ML {p3['ml_s']:.1f} s = {100 * p3['ml_share']:.0f}%) | < {p3['target_s']:.0f} s "
        f"| {_verdict(p3['pass'])} |"
    ]


def _p5_rows(p5: dict) -> list[str]:
    rows = []
    for name, entry in p5["catalogs"].items():
        for strategy, figure in entry["mean_labels"].items():
            ok = figure["mean"] <= p5["target_labels"] and not figure["not_reached"] and len(p5["seeds"]) >= 3
            per_seed = ", ".join("-" if c is None else str(c) for c in figure["per_seed"])
            rows.append(
                f"| P5 | {name}: labels {strategy} needs to match random at {p5['labels']:,} "
                f"(random {entry['mean_random_accuracy']:.3f}; mean of {len(p5['seeds'])} seeds, pool "
                f"{p5['pool']:,}){_p5_full(entry, strategy, p5['labels'])} | {figure['mean']:.0f} ({per_seed}) "
                f"| <= {p5['target_labels']} | {_verdict(ok)} |"
            )
    return rows


def _p5_full(entry: dict, strategy: str, labels: int) -> str:
    """The strategy's accuracy at the end against the same model trained on the whole pool, when measured."""
    if "mean_full_pool_accuracy" not in entry:
        return ""
    return (f"; {strategy} {entry['mean_accuracy_at_end'][strategy]:.3f} at {labels:,} against "
            f"{entry['mean_full_pool_accuracy']:.3f} on the whole pool")


def _p3_details(p3: dict) -> list[str]:
    return [
        "", f"### P3: one training run at {p3['products']:,} products", "",
        "| part | seconds | notes |", "| --- | ---: | --- |",
        *_p3_matrix(p3),
        f"| gather the {p3['labels']:,} labeled examples (DB) and their matrix rows | {p3['gather_s']:.2f} "
        f"| catching the matrix up {p3['version_timings'].get('catalog_s', '-')} s |",
        f"| train (ML: holdout fit + refit on all) | {p3['train_s']:.2f} "
        f"| fit {p3['version_timings'].get('fit_s')} s, holdout model {p3['version_timings'].get('evaluate_s')} s; "
        f"holdout accuracy {p3['holdout_accuracy']} |",
        f"| rescore: inside `score_matrix` (ML) | {p3['rescore_ml_s']:.2f} | every product's kept row |",
        f"| rescore: the rest (read task ids, look scores up, COPY + UPDATE, diverse batch) "
        f"| {p3['rescore_db_s']:.2f} | {p3['scored']:,} tasks |",
        f"| rest (request, artifact save, activation) | {p3['other_s']:.2f} | |",
        f"| **total** | **{p3['total_s']:.2f}** | ML {p3['ml_s']:.1f} s = {100 * p3['ml_share']:.0f}% |",
    ]


def _p3_matrix(p3: dict) -> list[str]:
    matrix = p3.get("matrix")
    if not matrix:
        return []
    return [f"| (not in the total) the catalog matrix, built in the background after the import "
            f"| {matrix['seconds']:.1f} | {matrix['rows']:,} rows, {matrix['disk_mb']:,} MB on disk |"]


def _p5_details(p5: dict) -> list[str]:
    lines = ["", f"### P5: active learning vs random order ({p5['labels']:,} labels, training at {p5['schedule']})",
             "", "| catalog | seed | pool (held out) | random acc at end | strategy | labels to match | acc at end "
             "| whole pool acc |", "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |"]
    for name, entry in p5["catalogs"].items():
        for seed, run in entry["seeds"].items():
            for strategy in p5["strategies"]:
                figure = run["strategies"][strategy]
                lines.append(f"| {name} | {seed} | {run['pool']:,} ({run['heldout']:,}) | {run['random_accuracy']} "
                             f"| {strategy} | {_n(figure['labels_to_reach_random'])} | {figure['accuracy_at_end']} "
                             f"| {run.get('full_pool_accuracy', '-')} |")
    for name, entry in p5["catalogs"].items():
        lines.append(f"\n- {name}: {entry['description']} ({entry['source_rows']:,} rows, {entry['categories']} "
                     "categories).")
    return lines


def _p1_details(p1: dict) -> list[str]:
    lines = ["", f"### P1: import of {p1['rows']:,} rows (`{p1['file']}`)", "",
             "| step | seconds | rows/s | notes |", "| --- | ---: | ---: | --- |"]
    for n, copy in enumerate(p1["copy_runs"], 1):
        lines.append(f"| `psql \\copy` #{n} | {copy['seconds']:.2f} | {_n(copy['rows_per_s'])} "
                     f"| {copy['rows']:,} rows |")
    lines.append(_p1_import_line("`manage.py import_products`", p1["import"]))
    if p1.get("floor"):
        floor = p1["floor"]
        lines.append(f"| floor: `psql \\copy` of the import's products, then its tasks, into the emptied tables "
                     f"| {floor['seconds']:.2f} | {_n(floor['rows_per_s'])} | {floor['rows']:,} rows, each table's "
                     f"indexes, constraints and triggers |")
        for table, seconds in floor.get("table_seconds", {}).items():
            lines.append(f"| floor, `{table}` alone (psql's timing) | {seconds:.2f} | {_n(floor['rows'] / seconds)} "
                         f"| {floor['rows']:,} rows |")
    if p1.get("labeled_import"):
        lines.append(_p1_import_line("`manage.py import_products --label-column category`", p1["labeled_import"]))
    return lines


def _p1_import_line(step: str, imported: dict) -> str:
    notes = f"{_n(imported.get('created'))} created, {_n(imported.get('rejected'))} rejected"
    if imported.get("job_run_seconds") is not None:
        notes += (f"; job ran {imported['job_run_seconds']:.2f} s ({_n(imported.get('rows_per_s_job_only'))} rows/s), "
                  f"storing the file {imported.get('store_file_seconds', 0):.2f} s, the rest is process start")
    if imported.get("timed_out"):
        notes += f"; STOPPED at the time limit, estimated total {_n(imported.get('estimated_total_seconds'))} s"
    if imported.get("labels") is not None:
        notes = f"{_n(imported['labels'])} labels, " + notes
    return f"| {step} | {imported['seconds']:.2f} | {_n(imported['rows_per_s'])} | {notes} |"


def _p2_details(p2: dict, name: str = "P2", unit: str = "products") -> list[str]:
    lines = ["", f"### {name}: latency over HTTP ({p2['annotators']} annotators, think {p2['think_seconds']} s, "
             f"warm-up {p2['warmup_seconds']:.0f} s discarded)", "",
             f"| {unit} | request | count | p50 ms | p95 ms | p99 ms | max ms | errors |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for key in [key for key in p2 if key.isdigit()]:
        run = p2[key]
        for kind in ("next", "submit", "pair"):
            figures = run[kind]
            errors = run["errors"].get(kind, 0) if kind != "pair" else run["error_count"]
            lines.append(f"| {run['products']:,} | {kind} | {figures['count']:,} | {_n(figures['p50_ms'], 1)} "
                         f"| {_n(figures['p95_ms'], 1)} | {_n(figures['p99_ms'], 1)} | {_n(figures['max_ms'], 1)} "
                         f"| {errors} |")
    lines += ["", "One next + submit in-process after the run (no HTTP, no concurrency): queries, time, time in SQL, "
              "and the claim query's execution time from EXPLAIN ANALYZE.", "",
              f"| {unit} | pairs/s over HTTP | queries next / submit | next ms (SQL) | submit ms (SQL) | claim ms "
              "| 204s | reconnects |", "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for key in [key for key in p2 if key.isdigit()]:
        run, diag = p2[key], p2[key].get("diagnostics", {})
        claim = next((line.split(":")[1].strip() for line in diag.get("next_claim_plan", [])
                      if line.startswith("Execution Time")), "-")
        lines.append(f"| {run['products']:,} | {run['pairs_per_s']} | {_n(diag.get('next_query_count'))} / "
                     f"{_n(diag.get('submit_query_count'))} | {_n(diag.get('next_ms'), 1)} "
                     f"({_n(diag.get('next_db_ms'), 1)}) | {_n(diag.get('submit_ms'), 1)} "
                     f"({_n(diag.get('submit_db_ms'), 1)}) | {claim} | {run['empty_queue_204']} "
                     f"| {run['reconnects']} |")
    lines += ["", "Lock waits during the measured window (pg_locks sampled every 50 ms):", ""]
    for key in [key for key in p2 if key.isdigit()]:
        waits = p2[key].get("lock_waits") or {}
        top = "; ".join(f"`{lock}` x{count}" for lock, count in (waits.get("top_waits") or {}).items()) or "none"
        lines.append(f"- {p2[key]['products']:,} {unit}: a backend waited on a lock in "
                     f"{_n(100 * (waits.get('share_of_samples_with_a_wait') or 0), 0)}% of {_n(waits.get('samples'))} "
                     f"samples (mean {_n(waits.get('mean_waiting_backends'), 2)} waiting); {top}")
    for key in [key for key in p2 if key.isdigit()]:
        run = p2[key]
        for body in run["first_errors"]:
            lines.append(f"\nFirst errors at {run['products']:,}: `{body[:300]}`")
    return lines


def _p6_rows(p6: dict) -> list[str]:
    note = "" if p6["products"] == MILLION else f" (at {p6['products']:,}; the target is at 1M)"
    quality = p6["quality"]
    return [
        f"| P6 | candidate pairs (blocking, k={p6['k']}) for {p6['products']:,} products, written as tasks{note} "
        f"| {p6['seconds']:.0f} s, peak {p6['peak_mb']:.0f} MB; {quality['candidates']:,} pairs, completeness "
        f"{_n(quality['pair_completeness'], 3)}, RR {_n(quality['reduction_ratio'], 6)} "
        f"| < {p6['target_seconds']:.0f} s, < {p6['target_peak_mb']:.0f} MB | {_verdict(p6['pass'])} |"
    ]


def _p7_rows(p7: dict) -> list[str]:
    note = "" if p7["scored"] >= MILLION else f" (at {p7['scored']:,}; the target is at 1M)"
    return [
        f"| P7 | rescore {p7['scored']:,} open candidate pairs (`pairs_rescore`){note} "
        f"| {p7['seconds']:.1f} s ({_n(p7['pairs_per_s'])} pairs/s; featurize + predict {p7['ml_s']:.1f} s) "
        f"| < {p7['target_s']:.0f} s | {_verdict(p7['pass'])} |"
    ]


def _p6_details(p6: dict) -> list[str]:
    quality = p6["quality"]
    parts = p6.get("parts") or {}
    result = p6.get("result") or {}
    timings = result.get("timings") or {name: entry["seconds"] for name, entry in parts.items()}
    lines = ["", f"### P6: candidate pairs for {p6['products']:,} products ({p6['path']})", "",
             "| part | seconds |", "| --- | ---: |"]
    lines += [f"| {name} | {_n(float(value), 1)} |" for name, value in timings.items()]
    lines += [
        f"| **total** (wall; process CPU {_n(p6.get('cpu_s'), 0)} s) | **{p6['seconds']:.1f}** |", "",
        f"Peak RSS {p6['peak_mb']:.0f} MB (Django alone {p6['baseline_mb']:.0f} MB). Against the generator's truth "
        f"(same base title = same product; {quality['base_titles']:,} base titles, {quality['true_pairs']:,} "
        f"matching pairs): {quality['true_pairs_found']:,} found, pair completeness "
        f"{_n(quality['pair_completeness'], 3)}, precision of the candidates {_n(quality['candidate_precision'], 3)}, "
        f"reduction ratio {_n(quality['reduction_ratio'], 6)}. Load average while measured: {p6.get('load', '-')}.",
    ]
    return lines


def _p9_rows(p9: dict) -> list[str]:
    speed = p9["speed"]
    note = "" if speed["products"] >= MILLION else f" (at {speed['products']:,}; the target is at 1M)"
    rows = [
        f"| P9 | BM25 candidates: top {speed['k']} of {speed['products']:,} products for {speed['queries']:,} queries"
        f"{note} | {speed['total_s']} s (index {speed['index_s']} s), peak {speed['peak_mb_above_start']:,} MB "
        f"| < 120 s | {_verdict(speed['pass'])} |"
    ]
    steps = p9.get("pipeline")
    if steps:
        rows.append(
            f"| P9 | the whole candidate step on PostgreSQL (`relevance_candidates`: read, index, rank, keep "
            f"{steps['results']:,} results, make {steps['tasks']:,} tasks), {steps['queries']:,} queries "
            f"| {steps['total_s']} s (read {steps['read_s']:.1f}, rank {steps['rank_s']:.1f}, write "
            f"{steps['write_s']:.1f}) | < 120 s | {_verdict(steps['pass'])} |"
        )
    quality = p9.get("quality")
    if quality:
        learned = quality.get("learned") or {}
        rows.append(
            f"| P9 | nDCG@10 on PriceRunner's relevance set: BM25 / learned ranker (held-out queries) "
            f"| {quality['ndcg_at_10']} / {learned.get('learned_ndcg_at_10', '-')} | (none) | - |"
        )
    return rows


def _p2t_rows(p2t: dict) -> list[str]:
    rows = []
    for backend, name in (("sqlite", "SQLite, `make run`'s default"), ("postgresql", "PostgreSQL")):
        figures = p2t.get(backend)
        if not figures:
            continue
        during, outside = figures["submit"]["during"], figures["submit"]["outside"]
        rows.append(
            f"| P2t | submit p99 during a training run ({figures['training']['seconds']} s), {name}, "
            f"{figures['products']:,} products, {figures['annotators']} annotators | {_n(during['p99_ms'], 1)} ms "
            f"(max {_n(during['max_ms'], 1)}; outside the run p99 {_n(outside['p99_ms'], 1)}) "
            f"| < {figures['target_submit_p99_ms']:.0f} ms | {_verdict(figures['pass'])} |"
        )
    return rows


def markdown(results: dict) -> str:
    machine, params = results["machine"], results["parameters"]
    lines = [
        "# Shelfmark benchmark results",
        "",
        f"{results['date']}; {machine['cpu_count']} CPUs, Python {machine['python']}, {machine['postgres']}. "
        f"SCALE={params['SCALE']:,}, P2_SECONDS={params['P2_SECONDS']}, P2_THINK={params['P2_THINK']}, "
        f"source: `{params['source']}`. Total run {results['total_seconds']:.0f} s.",
        "",
        "| # | figure | measured | S10 target | verdict |",
        "| --- | --- | --- | --- | --- |",
    ]
    p1 = results.get("p1")
    lines += _p1_rows(p1) if p1 else ["| P1 | import vs `psql \\copy` | not run | >= 0.5 | - |"]
    for key, name, unit, _ in P2_KINDS:
        run = results.get(key)
        lines += (
            _p2_rows(run, name, unit)
            if run
            else [f"| {name} | next + submit p95, {unit} | not run | < 50 ms, ratio <= 1.5 | - |"]
        )
    p3, p4, p5 = results.get("p3"), results.get("p4"), results.get("p5")
    lines += _p3_rows(p3) if p3 else ["| P3 | train on 10k labels + rescore 1M | not run | < 30 s | - |"]
    lines += _p4_rows(p4) if p4 else ["| P4 | export 1M labeled rows as JSONL | not run | >= 100k rows/s, < 300 MB | - |"]  # noqa: E501
    lines += _p5_rows(p5) if p5 else ["| P5 | labels to match random at 1,000 | not run | <= 500 | - |"]
    p6, p7 = results.get("p6"), results.get("p7")
    lines += _p6_rows(p6) if p6 else ["| P6 | candidate pairs for 1M products | not run | < 300 s, < 2048 MB | - |"]
    lines += _p7_rows(p7) if p7 else ["| P7 | rescore 1M candidate pairs | not run | < 60 s | - |"]
    p2t = results.get("p2t")
    lines += _p2t_rows(p2t) if p2t else ["| P2t | submit p99 during a training run | not run | < 300 ms | - |"]
    p9 = results.get("p9")
    lines += _p9_rows(p9) if p9 else ["| P9 | BM25 candidates, 10k queries over 1M products | not run | < 120 s | - |"]
    if p1:
        lines += _p1_details(p1)
    for key, name, _, unit in P2_KINDS:
        if results.get(key):
            lines += _p2_details(results[key], name, unit)
    if p3:
        lines += _p3_details(p3)
    if p4:
        lines += _p4_details(p4)
    if p5:
        lines += _p5_details(p5)
    if p6:
        lines += _p6_details(p6)
    names = ("p1", "p2", "p2m", "p2r", "p2s", "p2t", "p3", "p4", "p5", "p6", "p7", "p9")
    dated = [f"{name.upper()} {results[name]['measured']}" for name in names
             if isinstance(results.get(name), dict) and results[name].get("measured")]
    if dated:
        lines += ["", f"Merged results (MERGE=1), measured at: {'; '.join(dated)}."]
    for failure in results.get("failures", []):
        lines += ["", f"**{failure}**"]
    lines += ["", "See bench/README.md for what each figure means; the full figures are in latest.json.", ""]
    return "\n".join(lines)
