"""P10, issue 13's learning: `python -m bench.p10_relevance_learning` (PostgreSQL, its own database as `make bench`).

On PriceRunner's relevance set (`bench.relevance_set`: cluster labels are the queries, the cluster's offers
Exact, its category's other offers Substitutes, the rest Irrelevant), P10_QUERIES queries drawn with the seed
over the whole catalog (35k offers: titles and categories): a relevance dataset per run, its candidates made by the app
(`relevance_candidates`: BM25's top 100 kept, its top P10_POOL pooled into tasks). The truth grades every
kept result and every Exact offer of each query. `manage.py simulate_labeling` then grades P10_LABELS
pairs in random order and in each uncertainty order of P10_STRATEGIES, training every P10_BATCH labels;
a fifth of the queries is held out whole, and at each checkpoint the learned ranker reranks their BM25
top 100: nDCG@10 of BM25 and of the ranker, and the accuracy of its grade on their pooled pairs.
Labels to match random: the first checkpoint at which an uncertainty order's nDCG@10 reaches random
order's at P10_LABELS. Writes bench/results/p10_relevance_learning.md and .json.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import sys
import time
from pathlib import Path

from bench.common import (
    DATA_DIR,
    RESULTS_DIR,
    BenchError,
    check_server,
    django_setup,
    env_int,
    labels_to_match_table,
    log,
    recreate_database,
)
from bench.relevance_set import RelevanceSet

FIGURES = ("ndcg_at_10", "bm25_ndcg_at_10", "accuracy")


def _build(offers: RelevanceSet, queries: list[str], *, name: str, seed: int, pool: int):
    """A relevance dataset of every offer and these queries, with the app's candidates."""
    from django.contrib.auth import get_user_model

    from datasets.importers.products import ProductRow
    from datasets.importers.queries import QueryRow
    from datasets.services.products import products_upsert
    from datasets.services.queries import queries_upsert
    from labeling.kinds.relevance.candidates import relevance_candidates
    from workspace.services.datasets import dataset_create

    lead = get_user_model().objects.get_or_create(username="p10-lead")[0]
    dataset = dataset_create(user=lead, name=name, task_type="relevance", seed=seed, retrain_every=0)
    products_upsert(dataset=dataset, rows=[
        ProductRow(line=i + 1, external_id=external_id, title=title, attributes={"category": category})
        for i, (external_id, title, category) in enumerate(
            zip(offers.ids, offers.titles, offers.categories.tolist(), strict=True)
        )
    ])
    queries_upsert(dataset=dataset, rows=[
        QueryRow(line=i + 1, external_id=offers.queries[label][0], text=label) for i, label in enumerate(queries)
    ])
    counts = relevance_candidates(dataset=dataset, pool=pool)
    return dataset, counts


def _truth(dataset, offers: RelevanceSet, queries: list[str], path: Path) -> int:
    """Grade every kept BM25 result and every Exact offer of each query; returns the pairs written."""
    from labeling.kinds.relevance.candidates import BM25
    from labeling.kinds.relevance.models import QueryResult

    position = {external_id: at for at, external_id in enumerate(offers.ids)}
    label_of = {offers.queries[label][0]: label for label in queries}
    found: dict[str, set[int]] = {label: set(offers.exact(label).tolist()) for label in queries}
    results = QueryResult.objects.filter(dataset=dataset, ranker=BM25).values_list(
        "query__external_id", "product__external_id"
    )
    for cluster, product in results.iterator(chunk_size=10_000):
        found[label_of[cluster]].add(position[product])
    written = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["query_id", "product_id", "grade"])
        for label in queries:
            products = sorted(found[label])
            for at, grade in zip(products, offers.grades(label, products), strict=True):
                writer.writerow([offers.queries[label][0], offers.ids[at], grade])
                written += 1
    return written


def _simulate(dataset, truth: Path, *, strategy: str, labels: int, batch: int, seed: int) -> dict:
    from django.core.management import call_command

    out = DATA_DIR / "p10" / f"{strategy}-{seed}.json"
    call_command("simulate_labeling", dataset=str(dataset.pk), truth=str(truth), labels=labels, batch=batch,
                 schedule="50", strategy=strategy, seed=seed, heldout=0.2, out=str(out), quiet=True,
                 stdout=io.StringIO())
    return json.loads(out.read_text())


def _reached(curve: list[dict], bar: float | None) -> int | None:
    """The labels from which the curve stays at or above `bar` to the end: a single early checkpoint that touches
    it (50 labels of cold-start order, then below for hundreds) is noise, not a match."""
    if bar is None:
        return None
    reached = None
    for point in curve:
        above = (point["ndcg_at_10"] or 0) >= bar
        reached = (reached or point["labels"]) if above else None
    return reached


def _summary(runs: dict, strategies: list[str], labels: int) -> dict:
    """Per uncertainty order: the labels it needs to stay at random order's end nDCG@10, per seed and their mean
    (a seed where it never does counts as `labels`)."""
    summary = {}
    for strategy in strategies:
        reached = [_reached(run["runs"][strategy]["curve"], run["random_ndcg_at_end"]) for run in runs.values()]
        counted = [labels if count is None else count for count in reached]
        summary[strategy] = {"per_seed": reached, "mean": round(sum(counted) / len(counted))}
    return summary


def seeds() -> list[int]:
    """P10_SEEDS ("1,2,3"), else P10_SEED alone: each seed draws its own queries and its own orders."""
    raw = os.environ.get("P10_SEEDS") or os.environ.get("P10_SEED") or "1"
    try:
        return [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise BenchError(f"P10_SEEDS={raw!r}: whole numbers separated by commas, e.g. 1,2,3") from None


def run_seeds() -> dict:
    """`run` for each seed; with several, the labels each uncertainty order needs to match random order's
    nDCG@10, per seed and their mean (a seed where it never does counts as the labels simulated)."""
    runs = {seed: run(seed) for seed in seeds()}
    if len(runs) == 1:
        return next(iter(runs.values()))
    strategies = list(next(iter(runs.values()))["labels_to_match_random"])
    labels = next(iter(runs.values()))["labels"]
    return {"seeds": {str(seed): result for seed, result in runs.items()}, "labels": labels,
            "labels_to_match_random": _summary(runs, strategies, labels)}


def run(seed: int = 1) -> dict:
    queries_wanted, labels = env_int("P10_QUERIES", 400), env_int("P10_LABELS", 1000)
    batch, pool = env_int("P10_BATCH", 100), env_int("P10_POOL", 10)
    strategies = [s.strip() for s in os.environ.get("P10_STRATEGIES", "margin,entropy").split(",") if s.strip()]
    offers = RelevanceSet.from_pricerunner()
    queries = random.Random(seed).sample(sorted(offers.queries), min(queries_wanted, len(offers.queries)))
    (DATA_DIR / "p10").mkdir(parents=True, exist_ok=True)
    truth = DATA_DIR / "p10" / f"truth-{seed}.csv"
    result: dict = {"offers": len(offers.ids), "queries": len(queries), "labels": labels, "batch": batch,
                    "pool": pool, "seed": seed, "runs": {}}
    for strategy in ["random", *strategies]:
        started = time.perf_counter()
        dataset, counts = _build(offers, queries, name=f"p10 {strategy}", seed=seed, pool=pool)
        if strategy == "random":
            result.update(tasks=counts.created, truth_pairs=_truth(dataset, offers, queries, truth))
        report = _simulate(dataset, truth, strategy=strategy, labels=labels, batch=batch, seed=seed)
        result["runs"][strategy] = {
            "curve": [{"labels": point["labels"], **{name: point[name] for name in FIGURES}}
                      for point in report["curve"]],
            "heldout_queries": report["heldout_queries"], "pool_size": report["pool_size"],
            "totals": report["totals"], "seconds": round(time.perf_counter() - started, 1),
        }
        last = report["curve"][-1]
        log(f"P10 {strategy}: nDCG@10 {last['ndcg_at_10']} (BM25 {last['bm25_ndcg_at_10']}), accuracy "
            f"{last['accuracy']} at {last['labels']} labels ({result['runs'][strategy]['seconds']} s)")
    bar = result["runs"]["random"]["curve"][-1]["ndcg_at_10"]
    result["random_ndcg_at_end"] = bar
    result["labels_to_match_random"] = {s: _reached(result["runs"][s]["curve"], bar) for s in strategies}
    return result


def _report(result: dict) -> str:
    if "seeds" not in result:
        return _seed_report(result)
    lines = [
        "# P10: learning to rank relevance on PriceRunner (`python -m bench.p10_relevance_learning`)", "",
        f"Measured {result['measured']} on {os.cpu_count()} CPUs, {len(result['seeds'])} seeds (P10_SEEDS), each its "
        "own draw of queries and orders. Labels an uncertainty order needs to reach random order's learned "
        f"nDCG@10 at {result['labels']:,} labels and stay there to the end (the mean counts a seed that never does "
        f"as {result['labels']:,}):", "",
        *labels_to_match_table(result["seeds"], result["labels_to_match_random"]),
    ]
    orders = list(result["labels_to_match_random"])
    lines += ["", "nDCG@10 on each seed's held-out queries at the end:", "",
              "| seed | BM25 | learned, random order | " + " | ".join(f"learned, {order}" for order in orders) + " |",
              "| ---: | ---: | ---: | " + " | ".join("---:" for _ in orders) + " |"]
    for seed, run in result["seeds"].items():
        last = run["runs"]["random"]["curve"][-1]
        ends = " | ".join(str(run["runs"][order]["curve"][-1]["ndcg_at_10"]) for order in orders)
        lines.append(f"| {seed} | {last['bm25_ndcg_at_10']} | {run['random_ndcg_at_end']} | {ends} |")
    for seed, run in result["seeds"].items():
        body = _seed_report({"measured": result["measured"], **run}).split("\n", 2)[2]
        lines += ["", f"## Seed {seed}", "", body]
    return "\n".join(lines)


def _seed_report(result: dict) -> str:
    strategies = list(result["runs"])
    curves = {s: {point["labels"]: point for point in result["runs"][s]["curve"]} for s in strategies}
    random_run = result["runs"]["random"]
    lines = [
        "# P10: learning to rank relevance on PriceRunner (`python -m bench.p10_relevance_learning`)", "",
        f"Measured {result['measured']} on {os.cpu_count()} CPUs. {result['queries']} queries (PriceRunner's cluster "
        f"labels, seed {result['seed']}) over its {result['offers']:,} offers (titles and categories); the app's "
        f"candidates: BM25's top 100 kept, its top {result['pool']} pooled into {result['tasks']:,} tasks; the truth "
        f"grades {result['truth_pairs']:,} pairs (every kept result and every Exact offer: the cluster's offers "
        "Exact, its category's Substitutes, the rest Irrelevant; ESCI gains 1 / 0.1 / 0). "
        f"{random_run['heldout_queries']} queries held out whole; the oracle grades through the real queue and "
        f"training, a ranker trained at 50 labels and every {result['batch']}, measured on the held-out queries: "
        "BM25's top 100 reranked by the ranker's expected gain, and the accuracy of its likeliest grade on their "
        "pooled pairs.", "",
        "| labels | BM25 nDCG@10 | " + " | ".join(f"learned nDCG@10 ({s})" for s in strategies) + " | "
        + " | ".join(f"grade accuracy ({s})" for s in strategies) + " |",
        "| ---: | ---: | " + " | ".join("---:" for _ in strategies * 2) + " |",
    ]
    for count in sorted(curves["random"]):
        row = [curves[s].get(count, {}) for s in strategies]
        lines.append(
            f"| {count:,} | {curves['random'][count]['bm25_ndcg_at_10']} | "
            + " | ".join(str(point.get("ndcg_at_10", "-")) for point in row) + " | "
            + " | ".join(str(point.get("accuracy", "-")) for point in row) + " |"
        )
    lines += ["", f"Random order's learned ranker at {result['labels']:,} labels: nDCG@10 "
              f"**{result['random_ndcg_at_end']}**. Labels an uncertainty order needs to reach it:"]
    for strategy, reached in result["labels_to_match_random"].items():
        lines.append(f"- {strategy}: **{reached if reached is not None else 'not reached'}**"
                     + (f" ({result['runs'][strategy]['seconds']} s for the run)"))
    late = [point["ndcg_at_10"] for point in random_run["curve"] if point["labels"] >= 300]
    if late:
        lines += ["", f"One seed and {random_run['heldout_queries']} held-out queries: past 300 labels random order's "
                  f"nDCG@10 spans {max(late) - min(late):.3f} from its lowest checkpoint to its highest, so read the "
                  "counts as rough (P10_SEED picks another draw of queries)."]
    lines += ["", f"Random order's run took {random_run['seconds']} s (train {random_run['totals']['train_s']} s, "
              f"rescore {random_run['totals']['rescore_s']} s, measure {random_run['totals']['eval_s']} s).", ""]
    return "\n".join(lines)


def main() -> int:
    if sys.argv[1:] == ["--report"]:  # rewrite the page from the last run's figures
        result = json.loads((RESULTS_DIR / "p10_relevance_learning.json").read_text())
        if "seeds" in result:  # the counts again from the curves, by the current rule
            for run in result["seeds"].values():
                strategies = list(run["labels_to_match_random"])
                run["labels_to_match_random"] = {s: _reached(run["runs"][s]["curve"], run["random_ndcg_at_end"])
                                                 for s in strategies}
            result["labels_to_match_random"] = _summary(result["seeds"], strategies, result["labels"])
            (RESULTS_DIR / "p10_relevance_learning.json").write_text(json.dumps(result, indent=2) + "\n")
        (RESULTS_DIR / "p10_relevance_learning.md").write_text(_report(result))
        return 0
    try:
        check_server()
        log(f"P10: recreating and migrating the bench database ({recreate_database():.1f} s)")
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    django_setup()
    from bench import data

    if not data.PRICERUNNER.is_file():
        print(f"bench: P10 needs PriceRunner at {data.PRICERUNNER}", file=sys.stderr)
        return 1
    result = {"measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), **run_seeds()}
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "p10_relevance_learning.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS_DIR / "p10_relevance_learning.md").write_text(_report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
