"""Active learning for the pair matcher, through the real queue: `python -m bench.matching_active`.

Issue 11's target: margin-style uncertainty reaches the F1 that random order reaches with 1,000 labels using
at most 500 labels (mean of 3 seeds), and with 1,000 labels comes within 1 F1 point of the same matcher
trained on the whole training pool.

For each dataset, seed and strategy a fresh matching dataset gets the pairs file (`import_pairs --no-labels`),
then `simulate_labeling` runs the oracle with the file itself as the truth, training through the services at
25 labels, then every MA_BATCH up to 1,000 (random order: 25, 50, then every 100), and measuring each version
on the held-out pairs at its own threshold. Each training makes the next batch diverse, a batch being the
labels until the next training, as in a dataset that retrains every MA_BATCH labels. `--compare-full` trains
the same matcher (same settings, same seed) on the whole pool.
- WDC computers (../shared/data/wdc-products/computers.csv, title only): pool = the `train_medium` split,
  held out = the `test` split. A pair listed under two splits was imported once, under its first.
- PriceRunner pairs_sample.csv: held out = a seeded stratified 20% (the seed of the run).

Figures: random's mean F1 at 1,000 (the bar); the fewest labels at which margin's mean curve reaches the bar;
margin's mean F1 at 1,000 against the whole-pool matcher's mean. Writes bench/results/matching_active.md and
.json. Options (environment): MA_DATA (../shared/data), MA_SEEDS (3), MA_LABELS (1000), MA_BATCH (25:
the datasets' default cadence, `datasets.models.RETRAIN_EVERY`),
MA_STRATEGIES (margin), MA_DATASETS (wdc-computers,pricerunner), MA_RANDOM_SHARE (0), MA_COLD_START (3),
MA_CONFIG (the matcher settings, JSON; default title only, as bench/matcher_eval.py), MA_VARIANT (a name:
the results go to bench/data/matching_active-<name>.* instead, for trying a change), MA_RANDOM_FROM (a
folder of an earlier run's reports, e.g. bench/data/matching_active: its random runs are reused, since random
order ignores the random share, the cold start and the strategy; the data and matcher settings must match), MA_DB
(shelfmark_bench_matching: a database of its own, recreated, so other benchmarks can run meanwhile).
Without the data files it says so and exits 0.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench import common
from bench.common import DATA_DIR, PYTHON, RESULTS_DIR, ROOT, BenchError, env_float, env_int, log

TARGET_LABELS = 500
TARGET_GAP = 0.01
SCHEDULE = "25"
# Random order does not depend on the models: its bar is its F1 at the end, so it trains every 100 labels.
RANDOM_SCHEDULE, RANDOM_BATCH = "25,50", 100
DEFAULT_CONFIG = {"fields": ["title"]}
WORK = DATA_DIR / "matching_active"


def datasets(data: Path) -> dict[str, dict]:
    """The benchmark's datasets whose files are present: name -> file and simulation options."""
    found = {}
    wdc = data / "wdc-products" / "computers.csv"
    if wdc.is_file():
        found["wdc-computers"] = {
            "path": wdc,
            "title": "WDC computers (title only)",
            "options": {"pool_split": "train_medium", "heldout_split": "test"},
            "heldout": "the `test` split",
            "pool": "the `train_medium` split",
        }
    pricerunner = data / "pricerunner" / "pairs_sample.csv"
    if pricerunner.is_file():
        found["pricerunner"] = {
            "path": pricerunner,
            "title": "PriceRunner pairs_sample (title only)",
            "options": {"heldout": 0.2},
            "heldout": "a seeded stratified 20% (the run's seed)",
            "pool": "the other 80%",
        }
    return found


def _database() -> None:
    """A database (and media folder) of this benchmark's own, recreated and migrated; Django set up on it."""
    common.DB_NAME = os.environ.get("MA_DB", "shelfmark_bench_matching")
    shutil.rmtree(WORK / "media", ignore_errors=True)
    common.psql(f"DROP DATABASE IF EXISTS {common.DB_NAME} WITH (FORCE)", dbname="postgres")
    common.psql(f"CREATE DATABASE {common.DB_NAME}", dbname="postgres")
    env = {**common.django_env(), "MEDIA_ROOT": str(WORK / "media")}
    done = subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=900, check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"migrate failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    os.environ.update(env)
    (DATA_DIR / "static").mkdir(parents=True, exist_ok=True)
    import django

    django.setup()


def _simulate(name: str, spec: dict, seed: int, strategy: str, settings: dict) -> dict:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from workspace.services.datasets import dataset_create

    user = get_user_model().objects.get_or_create(username="bench")[0]
    dataset = dataset_create(
        user=user, name=f"{name} seed {seed} {strategy} {time.time_ns()}", task_type="matching", seed=seed,
        retrain_every=0, random_fraction=0.0, model_config=settings["config"],
        cold_start_examples=settings["cold_start"],
    )
    call_command("import_pairs", str(spec["path"]), dataset=str(dataset.pk), no_labels=True, stdout=io.StringIO())
    out = settings["work"] / f"{name}-{seed}-{strategy}.json"
    options = spec["options"]
    call_command(
        "simulate_labeling", dataset=str(dataset.pk), truth=str(spec["path"]), labels=settings["labels"],
        batch=RANDOM_BATCH if strategy == "random" else settings["batch"],
        schedule=RANDOM_SCHEDULE if strategy == "random" else SCHEDULE,
        strategy=strategy, seed=seed, out=str(out), quiet=True,
        heldout=options.get("heldout", 0.2), heldout_split=options.get("heldout_split"),
        pool_split=options.get("pool_split"), random_share=settings["random_share"] if strategy != "random" else 0.0,
        compare_full=strategy == "random", stdout=io.StringIO(),
    )
    return json.loads(out.read_text())


def _mean(values: list[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return round(sum(known) / len(known), 4) if known and len(known) == len(values) else None


def _mean_curve(reports: list[dict], key: str = "f1") -> dict[int, float | None]:
    """Label count -> mean figure over the seeds' curves (None where a seed has no figure there)."""
    by_labels: dict[int, list[float | None]] = {}
    for report in reports:
        for point in report["curve"]:
            by_labels.setdefault(point["labels"], []).append(point.get(key))
    return {labels: _mean(f1s) if len(f1s) == len(reports) else None for labels, f1s in sorted(by_labels.items())}


def summarize(runs: dict[str, dict[int, dict]], strategies: list[str], labels: int) -> dict:
    """The figures of one dataset from its reports (strategy -> seed -> report)."""
    randoms = list(runs["random"].values())
    bar = _mean([report["totals"]["f1"] for report in randoms])
    full = _mean([report["full_pool"]["f1"] for report in randoms])
    summary: dict = {
        "random_f1_at_end": bar,
        "random_curve": _mean_curve(randoms),
        "random_f1_at_half_at_end": _mean([report["totals"].get("f1_at_half") for report in randoms]),
        "random_best_f1_at_end": _mean([report["totals"].get("best_f1") for report in randoms]),
        "random_curve_at_half": _mean_curve(randoms, "f1_at_half"),
        "full_pool_f1_at_half": _mean([report["full_pool"].get("f1_at_half") for report in randoms]),
        "full_pool_f1": full,
        "full_pool_labels": randoms[0]["full_pool"]["labels"],
        "heldout_size": randoms[0]["heldout_size"],
        "heldout_matches": randoms[0]["heldout_matches"],
        "pool_size": randoms[0]["pool_size"],
        "pool_matches": randoms[0]["pool_matches"],
        "strategies": {},
    }
    for strategy in strategies:
        reports = list(runs[strategy].values())
        curve = _mean_curve(reports)
        end = _mean([report["totals"]["f1"] for report in reports])
        reached = next((n for n, f1 in curve.items() if f1 is not None and bar is not None and f1 >= bar), None)
        per_seed = {
            seed: next((p["labels"] for p in report["curve"] if (p["f1"] or 0) >= (report_bar or 1)), None)
            for seed, report, report_bar in (
                (seed, report, runs["random"][seed]["totals"]["f1"]) for seed, report in runs[strategy].items()
            )
        }
        half_bar = _mean([report["totals"].get("f1_at_half") for report in randoms])
        half_curve = _mean_curve(reports, "f1_at_half")
        summary["strategies"][strategy] = {
            "curve": curve,
            # Diagnostics: the same versions at threshold 0.5, and at the best threshold of the held-out pairs.
            "curve_at_half": half_curve,
            "curve_best": _mean_curve(reports, "best_f1"),
            "f1_at_half_at_end": _mean([report["totals"].get("f1_at_half") for report in reports]),
            "best_f1_at_end": _mean([report["totals"].get("best_f1") for report in reports]),
            "labels_to_reach_random_at_half": next(
                (n for n, f1 in half_curve.items() if f1 is not None and half_bar is not None and f1 >= half_bar), None
            ),
            "f1_at_end": end,
            "labels_to_reach_random": reached,
            "labels_to_reach_random_per_seed": per_seed,
            "gap_to_full_pool": None if end is None or full is None else round(full - end, 4),
            "precision_at_end": _mean([report["totals"]["precision"] for report in reports]),
            "recall_at_end": _mean([report["totals"]["recall"] for report in reports]),
            "pass_labels": reached is not None and reached <= TARGET_LABELS,
            "pass_gap": end is not None and full is not None and full - end <= TARGET_GAP,
            "wall_s": round(sum(report["totals"]["wall_s"] for report in reports), 1),
        }
    return summary


def markdown(results: dict) -> str:
    strategies = results["strategies"]
    lines = [
        "# Active learning for the pair matcher (`python -m bench.matching_active`)",
        "",
        f"Measured {results['date']} on {results['cpus']} CPUs{results['variant_note']}. An oracle labels pairs "
        "through the real queue, training (`training_request` + `model_version_train`, rescoring every open pair) "
        f"at 25 labels, then every {results['batch']} up to {results['labels']:,} (random order: 25, 50, then every "
        f"{RANDOM_BATCH}); each version is measured on "
        "the held-out pairs at its own threshold (the app's: 0.5 on calibrated probabilities by default, "
        "the holdout's best-F1 one with `threshold: holdout`). Matcher settings "
        f"`{json.dumps(results['config'])}`, cold start {results['cold_start']} labels of each answer, random share "
        f"{results['random_share']}. Means over seeds {', '.join(map(str, results['seeds']))}; F1 in points.",
        "",
        f"Targets: margin reaches random's F1 at {results['labels']:,} labels with at most {TARGET_LABELS} labels, "
        f"and at {results['labels']:,} labels comes within {100 * TARGET_GAP:.0f} point of the matcher trained on "
        "the whole pool.",
        "",
        "| dataset | pool (matches) | held out (matches) | random F1 @ end | strategy | labels to reach it "
        "| per seed | F1 @ end (P / R) | whole pool F1 | gap | targets |",
        "| --- | --- | --- | ---: | --- | ---: | --- | ---: | ---: | ---: | --- |",
    ]
    for entry in results["datasets"].values():
        s = entry["summary"]
        for strategy in strategies:
            m = s["strategies"][strategy]
            seeds = ", ".join("-" if v is None else str(v) for v in m["labels_to_reach_random_per_seed"].values())
            verdict = ("labels ✓" if m["pass_labels"] else "labels ✗") + (" gap ✓" if m["pass_gap"] else " gap ✗")
            lines.append(
                f"| {entry['title']} | {s['pool_size']:,} ({s['pool_matches']:,}) "
                f"| {entry['heldout']}: {s['heldout_size']:,} ({s['heldout_matches']:,}) | {_p(s['random_f1_at_end'])} "
                f"| {strategy} | {m['labels_to_reach_random'] or 'not reached'} | {seeds} "
                f"| {_p(m['f1_at_end'])} ({_p(m['precision_at_end'])} / {_p(m['recall_at_end'])}) "
                f"| {_p(s['full_pool_f1'])} | {_p(m['gap_to_full_pool'])} | {verdict} |"
            )
    lines += [
        "",
        "Diagnostics of the threshold (the same trained versions, F1 at the end): at the threshold each version chose "
        "on its own holdout (as deployed), at 0.5, and at the best threshold of the held-out pairs themselves "
        "(an upper bound no deployed matcher knows). `labels to reach (0.5)` compares margin and random both at 0.5.",
        "",
        "| dataset | strategy | F1 own threshold | F1 at 0.5 | best F1 | labels to reach random (0.5) "
        "| whole pool: own / 0.5 |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for entry in results["datasets"].values():
        s = entry["summary"]
        lines.append(
            f"| {entry['title']} | random | {_p(s['random_f1_at_end'])} | {_p(s.get('random_f1_at_half_at_end'))} "
            f"| {_p(s.get('random_best_f1_at_end'))} | - "
            f"| {_p(s['full_pool_f1'])} / {_p(s.get('full_pool_f1_at_half'))} |"
        )
        for strategy in strategies:
            m = s["strategies"][strategy]
            lines.append(
                f"| {entry['title']} | {strategy} | {_p(m['f1_at_end'])} | {_p(m.get('f1_at_half_at_end'))} "
                f"| {_p(m.get('best_f1_at_end'))} | {m.get('labels_to_reach_random_at_half') or 'not reached'} | |"
            )
    lines += ["", "Mean F1 curves (points) by labels:", ""]
    for entry in results["datasets"].values():
        s = entry["summary"]
        points = sorted({int(n) for n in s["random_curve"]} | {
            int(n) for strategy in strategies for n in s["strategies"][strategy]["curve"]
        })
        shown = [n for n in points if n in (25, 50, 100, 150, 200, 250, 300, 400, 500, 600, 700, 800, 900, 1000)]
        lines += [f"**{entry['title']}**", "", "| strategy | " + " | ".join(map(str, shown)) + " |",
                  "| --- | " + " | ".join("---:" for _ in shown) + " |"]
        rows = {"random": s["random_curve"], **{k: s["strategies"][k]["curve"] for k in strategies}}
        rows["random, at 0.5"] = s.get("random_curve_at_half", {})
        for k in strategies:
            rows[f"{k}, at 0.5"] = s["strategies"][k].get("curve_at_half", {})
            rows[f"{k}, best threshold"] = s["strategies"][k].get("curve_best", {})
        for strategy, curve in rows.items():
            lines.append(f"| {strategy} | " + " | ".join(_p(_get(curve, n)) for n in shown) + " |")
        lines.append("")
    lines.append(f"Total {results['seconds'] / 60:.0f} min.")
    return "\n".join(lines) + "\n"


def _get(curve: dict, n: int) -> float | None:
    return curve.get(n, curve.get(str(n)))


def _p(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def main() -> int:
    data = Path(os.environ.get("MA_DATA") or ROOT.parent / "shared" / "data")
    found = datasets(data)
    wanted = [n.strip() for n in os.environ.get("MA_DATASETS", "wdc-computers,pricerunner").split(",") if n.strip()]
    found = {name: spec for name, spec in found.items() if name in wanted}
    if not found:
        print(f"matching_active: no WDC computers or PriceRunner pairs under {data}; skipped", file=sys.stderr)
        return 0
    seeds = list(range(1, env_int("MA_SEEDS", 3) + 1))
    strategies = [s.strip() for s in os.environ.get("MA_STRATEGIES", "margin").split(",") if s.strip()]
    settings = {
        "labels": env_int("MA_LABELS", 1000),
        "batch": env_int("MA_BATCH", 25),
        "random_share": env_float("MA_RANDOM_SHARE", 0.0),
        "cold_start": env_int("MA_COLD_START", 3),
        "config": json.loads(os.environ.get("MA_CONFIG") or json.dumps(DEFAULT_CONFIG)),
    }
    variant = os.environ.get("MA_VARIANT", "").strip()
    settings["work"] = WORK / variant if variant else WORK
    settings["work"].mkdir(parents=True, exist_ok=True)
    random_from = os.environ.get("MA_RANDOM_FROM", "").strip()
    settings["random_from"] = Path(random_from) if random_from else None
    try:
        common.check_server()
        WORK.mkdir(parents=True, exist_ok=True)
        _database()
    except BenchError as error:
        print(f"matching_active: {error}", file=sys.stderr)
        return 1
    started = time.perf_counter()
    results: dict = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "variant": variant or None,
        "variant_note": f" (variant {variant!r})" if variant else "",
        "seeds": seeds,
        "strategies": strategies,
        **{key: value for key, value in settings.items() if key not in ("work", "random_from")},
        "random_reused_from": random_from or None,
        "targets": {"labels": TARGET_LABELS, "gap": TARGET_GAP},
        "datasets": {},
    }
    for name, spec in found.items():
        runs: dict[str, dict[int, dict]] = {}
        for strategy in ["random", *strategies]:
            for seed in seeds:
                step = time.perf_counter()
                reused = settings["random_from"] / f"{name}-{seed}-random.json" if settings["random_from"] else None
                if strategy == "random" and reused and reused.is_file():
                    # Random order does not depend on the random share or the strategy: an earlier run's report.
                    report = json.loads(reused.read_text())
                else:
                    report = _simulate(name, spec, seed, strategy, settings)
                runs.setdefault(strategy, {})[seed] = report
                extra = f", whole pool {report['full_pool']['f1']}" if "full_pool" in report else ""
                log(f"{name} seed {seed} {strategy}: F1 {report['totals']['f1']} at {report['totals']['labels']} "
                    f"labels{extra} ({time.perf_counter() - step:.0f} s)")
        summary = summarize(runs, strategies, settings["labels"])
        results["datasets"][name] = {
            "title": spec["title"], "heldout": spec["heldout"], "pool": spec["pool"], "summary": summary,
            "runs": {strategy: {seed: {"curve": [[p["labels"], p["f1"], p["precision"], p["recall"], p["threshold"]]
                                                 for p in report["curve"]],
                                       "totals": report["totals"], "full_pool": report.get("full_pool")}
                                for seed, report in by_seed.items()} for strategy, by_seed in runs.items()},
        }
        for strategy in strategies:
            m = summary["strategies"][strategy]
            log(f"{name}: random {summary['random_f1_at_end']} at {settings['labels']}; {strategy} reaches it at "
                f"{m['labels_to_reach_random']}, {m['f1_at_end']} at the end vs whole pool {summary['full_pool_f1']}")
    results["seconds"] = round(time.perf_counter() - started, 1)
    folder, stem = (DATA_DIR, f"matching_active-{variant}") if variant else (RESULTS_DIR, "matching_active")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    text = markdown(results)
    (folder / f"{stem}.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
