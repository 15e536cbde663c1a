"""P11, issue 14's learning of attribute spans: `python -m bench.p11_span_learning` (PostgreSQL, its own database).

For each seed of P11_SEEDS, P11_PRODUCTS generated titles of the demo attributes (`workspace.demo_attributes`:
brand, model, color, size, capacity, material, quantity and gender, their true spans known) are loaded into a span
dataset per order (`demo_attributes_load`, as `manage.py load_demo_attributes` does; the same products for every
order of a seed, since the answers stay on a dataset), and `simulate_labeling` (in-process, the service
`manage.py simulate_labeling` calls) marks P11_LABELS titles in random order and in each order of P11_STRATEGIES:
the oracle answers through the real queue, and the real training (a spaCy tagger, `models_app.services.spans`)
runs every P11_BATCH labels, rescoring the open titles and reordering the queue. A fifth of the titles (the same
ones for every order of a seed) is held out and never served; each checkpoint's tagger is measured on them:
entity precision, recall and F1 (micro: a span counts when its tokens and type are the truth's) and the macro F1
over the types. The tagger's own holdout is 0 (the simulation measures on its held-out titles; the default 0.2
would train each checkpoint on four fifths of the labels).

Labels to match random: the first checkpoint from which an uncertainty order's F1 stays at or above random order's
F1 at P11_LABELS to the end (as P10 counts it), per seed and the mean (a seed where it never does counts as
P11_LABELS). Writes bench/results/p11_span_learning.md and .json; the simulation reports in bench/data/p11/.
"""

from __future__ import annotations

import json
import os
import sys
import time

from bench import common
from bench.common import DATA_DIR, RESULTS_DIR, BenchError, env_int, labels_to_match_table, log

FIGURES = ("f1", "macro_f1", "precision", "recall")
TIMINGS = ("label_s", "train_s", "rescore_s", "eval_s", "wall_s")
HELDOUT = 0.2


def _build(*, name: str, products: int, seed: int, truth):
    """A span dataset of the seed's generated titles, its truth written to `truth`."""
    from django.contrib.auth import get_user_model

    from workspace.services.demo_attributes import demo_attributes_load

    lead = get_user_model().objects.get_or_create(username="p11-lead")[0]
    return demo_attributes_load(user=lead, name=name, count=products, seed=seed, truth_path=truth,
                                model_config={"holdout": 0})


def _simulate(dataset, truth, *, strategy: str, labels: int, batch: int, seed: int) -> dict:
    from models_app.services.simulation import simulate_labeling, simulation_truth_read

    def progress(point: dict) -> None:
        log(f"P11 seed {seed} {strategy}: {point['labels']} labels, F1 {point['f1']}, macro-F1 {point['macro_f1']} "
            f"(train {point['train_s']} s, rescore {point['rescore_s']} s)")

    report = simulate_labeling(dataset=dataset, truth=simulation_truth_read(dataset=dataset, path=truth),
                               labels=labels, batch=batch, strategy=strategy, seed=seed, heldout=HELDOUT,
                               progress=progress)
    (DATA_DIR / "p11" / f"{strategy}-{seed}.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def reached(curve: list[dict], bar: float | None) -> int | None:
    """The labels from which the curve's F1 stays at or above `bar` to the end (one early checkpoint touching it is
    noise, not a match)."""
    if bar is None:
        return None
    found = None
    for point in curve:
        found = (found or point["labels"]) if (point["f1"] or 0) >= bar else None
    return found


def summary(runs: dict, strategies: list[str], labels: int) -> dict:
    """Per uncertainty order: the labels it needs to stay at random order's end F1, per seed and their mean (a seed
    where it never does counts as `labels`)."""
    result = {}
    for strategy in strategies:
        per_seed = [run["labels_to_match_random"][strategy] for run in runs.values()]
        counted = [labels if count is None else count for count in per_seed]
        result[strategy] = {"per_seed": per_seed, "mean": round(sum(counted) / len(counted))}
    return result


def seeds() -> list[int]:
    raw = os.environ.get("P11_SEEDS", "1,2,3")
    try:
        return [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise BenchError(f"P11_SEEDS={raw!r}: whole numbers separated by commas, e.g. 1,2,3") from None


def run_seed(seed: int, *, products: int, labels: int, batch: int, strategies: list[str]) -> dict:
    (DATA_DIR / "p11").mkdir(parents=True, exist_ok=True)
    truth = DATA_DIR / "p11" / f"truth-{seed}.jsonl"
    result: dict = {"seed": seed, "runs": {}}
    for strategy in ["random", *strategies]:
        started = time.perf_counter()
        dataset = _build(name=f"p11 seed {seed} {strategy}", products=products, seed=seed, truth=truth)
        report = _simulate(dataset, truth, strategy=strategy, labels=labels, batch=batch, seed=seed)
        result.update(pool=report["pool_size"], heldout=report["heldout_size"], heldout_spans=report["heldout_spans"])
        result["runs"][strategy] = {
            "curve": [{"labels": point["labels"], **{name: point[name] for name in FIGURES}}
                      for point in report["curve"]],
            "totals": {name: report["totals"][name] for name in TIMINGS},
            "seconds": round(time.perf_counter() - started, 1),
        }
    bar = result["runs"]["random"]["curve"][-1]["f1"]
    result["random_f1_at_end"] = bar
    result["labels_to_match_random"] = {s: reached(result["runs"][s]["curve"], bar) for s in strategies}
    return result


def run(chosen: list[int]) -> dict:
    products, labels, batch = env_int("P11_PRODUCTS", 1000), env_int("P11_LABELS", 400), env_int("P11_BATCH", 50)
    strategies = [s.strip() for s in os.environ.get("P11_STRATEGIES", "margin").split(",") if s.strip()]
    runs = {str(seed): run_seed(seed, products=products, labels=labels, batch=batch, strategies=strategies)
            for seed in chosen}
    return {"products": products, "labels": labels, "batch": batch, "heldout_fraction": HELDOUT,
            "strategies": strategies, "seeds": runs, "labels_to_match_random": summary(runs, strategies, labels)}


def report(result: dict) -> str:
    orders = ["random", *result["strategies"]]
    lines = [
        "# P11: active learning of attribute spans (`python -m bench.p11_span_learning`)", "",
        f"Measured {result['measured']} on {os.cpu_count()} CPUs. Per seed (P11_SEEDS), {result['products']:,} "
        "generated titles of the demo attributes (`workspace.demo_attributes`, 8 span types), the same for every "
        f"order, a fifth held out and never served; the oracle marks {result['labels']:,} titles through the real "
        f"queue, and a spaCy tagger is trained every {result['batch']} labels (its own holdout 0), rescoring the "
        "open titles and reordering the queue. Figures: entity F1 on the held-out titles (micro: a span counts "
        "when its tokens and type are the truth's) and macro-F1 over the types.", "",
        f"Labels an uncertainty order needs to reach random order's F1 at {result['labels']:,} labels and stay there "
        f"to the end (the mean counts a seed that never does as {result['labels']:,}):", "",
        *labels_to_match_table(result["seeds"], result["labels_to_match_random"]),
    ]
    lines += ["", f"At {result['labels']:,} labels (F1 / macro-F1 / precision / recall):", "",
              "| seed | held-out titles (spans) | " + " | ".join(orders) + " |",
              "| ---: | ---: | " + " | ".join("---" for _ in orders) + " |"]
    for seed, run in result["seeds"].items():
        ends = [run["runs"][order]["curve"][-1] for order in orders]
        lines.append(f"| {seed} | {run['heldout']} ({run['heldout_spans']:,}) | "
                     + " | ".join(" / ".join(str(end[name]) for name in FIGURES) for end in ends) + " |")
    for seed, run in result["seeds"].items():
        lines += ["", f"## Seed {seed}", "", *_seed_table(run, orders), "", *_timings(run, orders)]
    return "\n".join(lines) + "\n"


def _seed_table(run: dict, orders: list[str]) -> list[str]:
    curves = {order: {point["labels"]: point for point in run["runs"][order]["curve"]} for order in orders}
    lines = ["| labels | " + " | ".join(f"F1 ({order})" for order in orders) + " | "
             + " | ".join(f"macro-F1 ({order})" for order in orders) + " |",
             "| ---: | " + " | ".join("---:" for _ in orders * 2) + " |"]
    for count in sorted(curves["random"]):
        row = [curves[order].get(count, {}) for order in orders]
        lines.append(f"| {count:,} | " + " | ".join(str(point.get("f1", "-")) for point in row) + " | "
                     + " | ".join(str(point.get("macro_f1", "-")) for point in row) + " |")
    matched = ", ".join(f"{strategy} {'not reached' if count is None else f'**{count:,}**'}"
                        for strategy, count in run["labels_to_match_random"].items())
    return [*lines, "", f"Random order's F1 at the end: **{run['random_f1_at_end']}**; labels to match it: {matched}."]


def _timings(run: dict, orders: list[str]) -> list[str]:
    lines = ["| order | label s | train s | rescore s | measure s | simulation s | with loading s |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for order in orders:
        totals = run["runs"][order]["totals"]
        lines.append(f"| {order} | " + " | ".join(str(totals[name]) for name in TIMINGS)
                     + f" | {run['runs'][order]['seconds']} |")
    return lines


def main() -> int:
    if sys.argv[1:] == ["--report"]:  # rewrite the page from the last run's figures
        result = json.loads((RESULTS_DIR / "p11_span_learning.json").read_text())
        (RESULTS_DIR / "p11_span_learning.md").write_text(report(result))
        return 0
    common.DB_NAME = os.environ.get("BENCH_DB", "shelfmark_bench_p11")
    started = time.perf_counter()
    try:
        chosen = seeds()
        common.check_server()
        log(f"P11: recreating and migrating {common.DB_NAME} ({common.recreate_database():.1f} s)")
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    common.django_setup()
    result = {"measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), **run(chosen)}
    result["total_seconds"] = round(time.perf_counter() - started, 1)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "p11_span_learning.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS_DIR / "p11_span_learning.md").write_text(report(result))
    log(f"P11: wrote {RESULTS_DIR / 'p11_span_learning.md'} in {result['total_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
