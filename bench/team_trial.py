"""A simulated team on a real catalog, for the quality dashboard: `python -m bench.team_trial`.

Not a timed benchmark: it recreates the bench database, imports a seeded sample of PriceRunner (the
10 categories grouped into a two-level taxonomy, so agreement per level means something) through the
import service, makes a trusted sample gold, lets `simulate_team` label with overlap 3, computes the
quality report in-process, and writes bench/results/team_trial.json and team_trial.md.
Options (environment): TRIAL_PRODUCTS (2400), TRIAL_TEAM, TRIAL_GOLD (120), BENCH_SEED (42).
"""

from __future__ import annotations

import csv
import json
import os
import random
import sys
import time

from bench import data
from bench.common import DATA_DIR, RESULTS_DIR, BenchError, check_server, django_setup, env_int, log, recreate_database

PARENTS = {
    "Fridge Freezers": "Cooling", "Fridges": "Cooling", "Freezers": "Cooling",
    "Washing Machines": "Cleaning", "Dishwashers": "Cleaning", "Microwaves": "Kitchen",
    "Mobile Phones": "Electronics", "CPUs": "Electronics", "TVs": "Electronics", "Digital Cameras": "Electronics",
}
TEAM = "ana:0.97:7,ben:0.93:9,chen:0.9:6,dara:0.85:11,eli:0.75:5,spam:same:1.5"
GOLD_SOURCE = "checked-sample"


def _sample(count: int, seed: int) -> list[tuple[str, str, str]]:
    source = data.source_path()
    if source is None or not source.is_file():
        raise BenchError("the team trial needs the PriceRunner catalog (../shared/data/pricerunner/)")
    with source.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = [name.strip() for name in next(reader)]
        at = {name: header.index(name) for name in ("Product ID", "Product Title", "Category Label")}
        rows = [(row[at["Product ID"]], row[at["Product Title"]], row[at["Category Label"]]) for row in reader]
    return random.Random(seed).sample(rows, count)


def _files(rows: list[tuple[str, str, str]], gold: int, seed: int) -> dict[str, object]:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    paths = {name: DATA_DIR / f"team_trial_{name}.csv" for name in ("taxonomy", "products", "truth", "gold")}
    with paths["taxonomy"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "path"])
        for n, (leaf, parent) in enumerate(sorted(PARENTS.items()), 1):
            writer.writerow([f"c{n}", f"{parent} > {leaf}"])
    with paths["products"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "title"])
        writer.writerows((external_id, title) for external_id, title, _ in rows)
    with paths["truth"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "label"])
        writer.writerows((external_id, f"{PARENTS[category]} > {category}") for external_id, _, category in rows)
    with paths["gold"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "title", "label"])
        for external_id, title, category in random.Random(seed + 1).sample(rows, gold):
            writer.writerow([external_id, title, f"{PARENTS[category]} > {category}"])
    return paths


def _import(dataset, path, kind: str, **options) -> None:
    from django.core.files import File

    from workspace.services.imports import import_job_create, import_job_run

    with path.open("rb") as handle:
        job = import_job_create(dataset=dataset, user=None, kind=kind, file=File(handle, name=path.name),
                                options=options, start=False)
    from workspace.models import ImportStatus

    job.status = ImportStatus.QUEUED
    job.save(update_fields=["status"])
    job = import_job_run(job_id=job.pk)
    if job.status != "succeeded":
        raise BenchError(f"importing {path.name} failed: {job.message}")


def main() -> int:
    products, gold = env_int("TRIAL_PRODUCTS", 2400), env_int("TRIAL_GOLD", 120)
    seed, team_spec = env_int("BENCH_SEED", 42), os.environ.get("TRIAL_TEAM", TEAM)
    try:
        check_server()
        rows = _sample(products, seed)
    except BenchError as error:
        print(f"team trial: {error}", file=sys.stderr)
        return 1
    paths = _files(rows, gold, seed)
    log(f"recreating and migrating the bench database ({recreate_database():.1f} s)")
    django_setup()
    from datasets.models import Dataset
    from labeling.gold import gold_promote_imported
    from labeling.quality.report import quality_report_request, quality_report_run
    from labeling.simulation import annotators_parse, simulate_team, truth_read

    started = time.perf_counter()
    dataset = Dataset.objects.create(
        name="Team trial (PriceRunner)", overlap=3, gold_fraction=0.05, gold_warmup=5, random_fraction=0.0,
        retrain_every=0, seed=seed,
    )
    _import(dataset, paths["taxonomy"], "taxonomy")
    _import(dataset, paths["products"], "products", format="csv", mapping={"external_id": "external_id",
                                                                            "title": "title"})
    _import(dataset, paths["gold"], "products", format="csv", label_column="label", label_source=GOLD_SOURCE,
            mapping={"external_id": "external_id", "title": "title"})
    promoted = gold_promote_imported(dataset=dataset, source=GOLD_SOURCE)
    log(f"dataset {dataset.pk}: {products:,} products, {promoted} gold items; the team labels")
    team = annotators_parse(team_spec)
    run = simulate_team(dataset=dataset, truth=truth_read(paths["truth"]), team=team,
                        answers=products * 3, seed=seed, flag_rate=0.01, spread_days=5)
    report = quality_report_run(report_id=quality_report_request(dataset=dataset, user=None, enqueue=False).pk)
    seconds = time.perf_counter() - started
    result = {"products": products, "gold": promoted, "team": team_spec, "seed": seed, "run": run,
              "seconds": round(seconds, 1), "figures": report.figures}
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "team_trial.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (RESULTS_DIR / "team_trial.md").write_text(_markdown(result), encoding="utf-8")
    print(_markdown(result))
    log(f"wrote bench/results/team_trial.json and .md in {seconds:.0f} s")
    return 0


def _f(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _markdown(result: dict) -> str:
    figures = result["figures"]
    fleiss = figures["fleiss"]
    lines = [
        "# Team trial: a simulated team on PriceRunner",
        "",
        f"{result['products']:,} products (seed {result['seed']}), overlap 3, {result['gold']} gold items "
        f"(5% of served tasks, and the first 5 of each annotator), team `{result['team']}` "
        "(name:accuracy:mean seconds; `same` = always one label). Computed in "
        f"{result['seconds']:.0f} s, answers spread over 5 days.",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| answers | {figures['answers']:,} on {figures['items']:,} products "
        f"({figures['items_with_overlap']:,} with 2+ answers) |",
        f"| percent agreement | {_f(figures['percent_agreement'])} |",
        f"| Fleiss' kappa | {_f(fleiss['kappa'])} ({fleiss['items']:,} products x {fleiss['raters_per_item']}) |",
        f"| Krippendorff's alpha | {_f(figures['alpha'])} |",
    ]
    for level in figures["levels"]:
        lines.append(f"| level {level['depth']}: agreement / alpha | {_f(level['percent_agreement'])} / "
                     f"{_f(level['alpha'])} |")
    lines += ["", "| annotator | labels | labels/h | median s | majority | gold (95% CI) | distance | flags |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in figures["annotators"]:
        interval = row["gold_interval"]
        gold = (f"{_f(row['gold_accuracy'], 2)} ({_f(interval[0], 2)}-{_f(interval[1], 2)}) of {row['gold_items']}"
                if interval else "-")
        lines.append(
            f"| {row['name']} | {row['labels']:,} | {_f(row['labels_per_hour'], 0)} | {_f(row['median_seconds'], 1)} "
            f"| {_f(row['majority_agreement'])} | {gold} | {_f(row['distribution_distance'])} "
            f"| {', '.join(row['flags']) or '-'} |"
        )
    lines += ["", "| label | answers | specific agreement | kappa |", "| --- | --- | --- | --- |"]
    for row in figures["per_label"]:
        lines.append(f"| {row['path']} | {row['answers']:,} | {_f(row['specific_agreement'])} | {_f(row['kappa'])} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
