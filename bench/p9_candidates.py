"""P9, issue 13's candidate step: `python -m bench.p9_candidates` (the top 100 products by BM25 for 10k queries
over 1M products, under 2 minutes on 2 cores), and BM25's quality on a relevance set made from PriceRunner.

Speed: the bench catalog (`bench.data`, PriceRunner scaled to SCALE rows, title and brand as the text) and
P9_QUERIES queries: PriceRunner's cluster labels, the product names its offers were grouped under (or, in
a fresh clone, demo titles cut to their first words). Timed: `bm25_index` over the catalog, then
`bm25_top(k=P9_K)`; peak memory is the process's resident set above its start, sampled every 0.1 s.

Quality, on PriceRunner as it is (35k offers, 13k clusters): each cluster label is a query; the offers of
its cluster are Exact, those of other clusters in its category Substitutes, the rest Irrelevant (issue
13's relevance set). With ESCI's gains (1, 0.1, 0.01 for a Complement, 0), nDCG@10 of BM25's ranking
over titles, and the share of a query's Exact offers in its top 100 (the recall of the candidate pool).
Then the learned ranker, trained on the graded top 20 of half the queries (split by query), reranks the
other half's top 100: its nDCG@10 against BM25's on those queries.
Writes bench/results/p9_candidates.md and .json.
"""

from __future__ import annotations

import csv
import json
import os
import random
import time

import numpy as np

from bench import data
from bench.common import RESULTS_DIR, env_int, log
from bench.p3_taxonomy import PeakMemory
from bench.relevance_set import GAINS, RelevanceSet, pricerunner_rows

TARGET_SECONDS = 120.0


def _queries(count: int, seed: int = 1) -> list[str]:
    if data.PRICERUNNER.is_file():
        labels = sorted({row["Cluster Label"] for row in pricerunner_rows() if row["Cluster Label"].strip()})
    else:
        from workspace.demo import demo_products

        labels = sorted({" ".join(product["title"].split()[:3]) for product in demo_products(30_000)})
    rng = random.Random(seed)
    return [rng.choice(labels) for _ in range(count)] if count > len(labels) else rng.sample(labels, count)


def speed(scale: int, queries: int, k: int) -> dict:
    from labeling.kinds.relevance.bm25 import bm25_index, bm25_top

    path = data.catalog(scale)
    with path.open(encoding="utf-8", newline="") as handle:
        texts = [f"{row['title']} {row['brand']}" for row in csv.DictReader(handle)]
    asked = _queries(queries)
    with PeakMemory() as memory:
        started = time.perf_counter()
        index = bm25_index(texts)
        indexed = time.perf_counter()
        positions, _ = bm25_top(index, asked, k=k)
        done = time.perf_counter()
    total = done - started
    return {
        "products": len(texts), "queries": len(asked), "k": k, "terms": index.weights.shape[0],
        "index_s": round(indexed - started, 1), "top_s": round(done - indexed, 1), "total_s": round(total, 1),
        "peak_mb_above_start": round((memory.peak - memory.start) / 1e6),
        "empty_queries": int((positions[:, 0] < 0).sum()),
        "pass": len(texts) >= 1_000_000 and len(asked) >= 10_000 and total < TARGET_SECONDS,
    }


def pipeline(scale: int, queries: int) -> dict | None:
    """The candidate step as the worker runs it, on PostgreSQL: a relevance dataset holding the bench catalog
    (loaded with COPY, not timed) and `queries` queries, then `relevance_candidates` (read the products, index,
    rank, keep each query's top 100 in QueryResult, make the pooled top 10 tasks), timed by its phases. None
    without PostgreSQL (`python -m bench.p9_candidates` on the test settings)."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        return None
    from bench import p2_setup
    from datasets.importers.queries import QueryRow
    from datasets.services.queries import queries_upsert
    from labeling.kinds.relevance.candidates import relevance_candidates
    from workspace.services.datasets import dataset_create

    p2_setup.reset()
    path = data.catalog(scale)
    user = get_user_model().objects.create(username="bench-lead")
    with transaction.atomic():
        dataset = dataset_create(user=user, name=f"bench relevance {path.stem}", task_type="relevance")
        with connection.cursor() as cursor, path.open("rb") as handle:
            p2_setup.copy_products(cursor, dataset.pk, handle)
    asked = sorted(set(_queries(queries)))
    queries_upsert(dataset=dataset, rows=[QueryRow(n, f"q{n}", text) for n, text in enumerate(asked, start=1)])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) datasets_product")
        cursor.execute("CHECKPOINT")
    with PeakMemory() as memory:
        started = time.perf_counter()
        counts = relevance_candidates(dataset=dataset)
        total = time.perf_counter() - started
    return {
        "products": counts.products, "queries": counts.queries, "results": sum(counts.results.values()),
        "tasks": counts.created, **counts.timings, "total_s": round(total, 1),
        "peak_mb_above_start": round((memory.peak - memory.start) / 1e6),
        "pass": counts.products >= 1_000_000 and counts.queries >= 9_000 and total < TARGET_SECONDS,
    }


def quality(k: int = 100, train_depth: int = 20, seed: int = 1) -> dict | None:
    """BM25 on PriceRunner's own relevance set: nDCG@10 and the recall of Exact offers at k; then the learned
    ranker (`models_app.ml.relevance`), trained on the graded top `train_depth` of half the queries, reranking
    the other half's top k: both rankers' nDCG@10 on those queries."""
    if not data.PRICERUNNER.is_file():
        return None
    from labeling.kinds.relevance.bm25 import bm25_index, bm25_top
    from models_app.ml.relevance import TOP, RelevanceFeaturizer, train_relevance

    offers = RelevanceSet.from_pricerunner()
    titles = offers.titles
    names = sorted(offers.queries)
    positions, scores = bm25_top(bm25_index(titles), names, k=k)

    def grades_of(row: int, found: np.ndarray) -> np.ndarray:
        return offers.grades(names[row], found)

    def ndcg(row: int, order: np.ndarray) -> float:
        return offers.ndcg(names[row], order)

    found = [positions[row][positions[row] >= 0] for row in range(len(names))]
    bm25_ndcg = [ndcg(row, found[row]) for row in range(len(names))]
    recall = [float((grades_of(row, found[row]) == "E").sum()) / len(offers.exact(names[row]))
              for row in range(len(names))]
    result = {
        "offers": len(titles), "queries": len(names), "k": k,
        "ndcg_at_10": round(float(np.mean(bm25_ndcg)), 4), "exact_recall_at_k": round(float(np.mean(recall)), 4),
    }
    # The learned ranker: half the queries judged (their top train_depth), the other half reranked.
    rng = np.random.default_rng(seed)
    judged = rng.random(len(names)) < 0.5
    featurizer = RelevanceFeaturizer.fit(titles)

    def features(rows: list[int], depth: int) -> tuple[np.ndarray, list[int], list[np.ndarray]]:
        pairs_query, pairs_title, bm25, ranks, picked, categories, tops = [], [], [], [], [], [], []
        for row in rows:
            top = found[row][:depth]
            picked.append(top)
            pairs_query += [names[row]] * len(top)
            pairs_title += [titles[p] for p in top]
            bm25 += scores[row][: len(top)].tolist()
            ranks += list(range(1, len(top) + 1))
            # The offer's category, as a catalog's "category" attribute gives it to the app's ranker.
            categories += offers.categories[top].tolist()
            tops += [tuple(offers.categories[found[row][:TOP]].tolist())] * len(top)
        table = featurizer.transform(
            pairs_query, pairs_title, pairs_title, bm25=bm25, ranks=ranks, categories=categories, top_categories=tops
        )
        return table, rows, picked

    started = time.perf_counter()
    train_rows, train_queries, train_picked = features(list(np.flatnonzero(judged)), train_depth)
    grades = np.concatenate([grades_of(row, top) for row, top in zip(train_queries, train_picked, strict=True)])
    model = train_relevance(train_rows, grades.tolist(), gains=GAINS, seed=seed)
    test_rows, test_queries, test_picked = features(list(np.flatnonzero(~judged)), k)
    expected = model.expected_gain(test_rows)
    learned, bm25_test, at = [], [], 0
    for row, top in zip(test_queries, test_picked, strict=True):
        order = top[np.argsort(-expected[at : at + len(top)], kind="stable")]
        at += len(top)
        learned.append(ndcg(row, order))
        bm25_test.append(bm25_ndcg[row])
    result["learned"] = {
        "train_queries": int(judged.sum()), "train_pairs": len(grades), "test_queries": len(test_queries),
        "bm25_ndcg_at_10": round(float(np.mean(bm25_test)), 4),
        "learned_ndcg_at_10": round(float(np.mean(learned)), 4),
        "seconds": round(time.perf_counter() - started, 1),
    }
    return result


def run(scale: int) -> dict:
    """P9's figures (Django set up by the caller): the candidate step's speed, then the rankers' quality."""
    queries, k = env_int("P9_QUERIES", 10_000), env_int("P9_K", 100)
    log(f"P9: BM25 candidates, top {k} of {scale:,} products for {queries:,} queries")
    result = {"speed": speed(scale, queries, k)}
    log(f"P9 speed: {result['speed']}")
    if os.environ.get("P9_PIPELINE", "1") != "0":
        result["pipeline"] = pipeline(scale, queries)
        log(f"P9 pipeline: {result['pipeline']}")
    result["quality"] = quality()
    log(f"P9 quality: {result['quality']}")
    return result


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    result = {"measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), **run(env_int("SCALE", 1_000_000))}
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "p9_candidates.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS_DIR / "p9_candidates.md").write_text(_report(result))
    return 0


def _report(result: dict) -> str:
    speed_, quality_ = result["speed"], result["quality"]
    verdict = "PASS" if speed_["pass"] else ("SHORT" if speed_["products"] >= 1_000_000 else "not at 1M")
    lines = [
        "# P9: BM25 candidates (`python -m bench.p9_candidates`)", "",
        f"Measured {result['measured']} on {os.cpu_count()} CPUs: the top {speed_['k']} of {speed_['products']:,} "
        f"products (bench catalog, title + brand) for {speed_['queries']:,} queries (PriceRunner's product names).",
        "", "| figure | value | target |", "| --- | ---: | --- |",
        f"| index + top {speed_['k']} | {speed_['total_s']} s (index {speed_['index_s']} s, top k "
        f"{speed_['top_s']} s) | < {TARGET_SECONDS:.0f} s |",
        f"| peak memory above the start | {speed_['peak_mb_above_start']:,} MB | |",
        f"| verdict | {verdict} | |", "",
        f"{speed_['terms']:,} terms; {speed_['empty_queries']} queries without a candidate.", "",
    ]
    steps = result.get("pipeline")
    if steps:
        lines += [
            f"The whole candidate step as the worker runs it on PostgreSQL (`relevance_candidates`): "
            f"{steps['products']:,} products and {steps['queries']:,} distinct queries in "
            f"**{steps['total_s']} s** (read + index {steps['read_s']:.1f} s, rank {steps['rank_s']:.1f} s, write "
            f"{steps['results']:,} kept results and {steps['tasks']:,} tasks {steps['write_s']:.1f} s; peak "
            f"{steps['peak_mb_above_start']:,} MB above the start): "
            f"{'PASS' if steps['pass'] else 'SHORT'} against {TARGET_SECONDS:.0f} s.", "",
        ]
    if quality_:
        lines += [
            f"Quality on PriceRunner's relevance set ({quality_['offers']:,} offers, {quality_['queries']:,} queries, "
            "ESCI gains 1 / 0.1 / 0.01 / 0): BM25 over titles has nDCG@10 "
            f"**{quality_['ndcg_at_10']}**, and its top {quality_['k']} holds {quality_['exact_recall_at_k']:.1%} "
            "of each query's Exact offers (mean over queries).", "",
        ]
        learned = quality_.get("learned")
        if learned:
            lines += [
                f"The learned ranker (`models_app/ml/relevance.py`), trained on {learned['train_pairs']:,} graded "
                f"pairs (the top 20 of {learned['train_queries']:,} queries), reranking the top {quality_['k']} of "
                f"the other {learned['test_queries']:,} queries: nDCG@10 **{learned['learned_ndcg_at_10']}** "
                f"against BM25's {learned['bm25_ndcg_at_10']} on the same queries ({learned['seconds']} s).", "",
            ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
