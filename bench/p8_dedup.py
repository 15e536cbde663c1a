"""P8: PriceRunner as deduplication: all 35k offers, one source, no pairs given; its cluster ids are the truth.

1. The offers are imported into a fresh matching dataset (`import_products`), with no pairs at all.
2. Blocking (`candidate_run_execute`, k=10, the default settings): its pair completeness (the share of the
   truth's same-cluster pairs among the candidates) and reduction ratio (the share of the n(n-1)/2 pairs
   nobody has to look at).
3. An oracle labels P8_LABELS candidate pairs through the real queue (`simulate_labeling`, margin, training
   every P8_BATCH labels; 20% of the candidates held out for the matcher's precision / recall / F1).
4. A last training rescores every open pair. The clusters are compared with the truth by pairwise precision
   and recall over every offer (of the pairs of offers put in one cluster, how many are one product; of the
   pairs of offers that are one product, how many were put in one cluster):
   - labeled matches alone (connected components);
   - labeled + predicted, as the export makes them (`dataset_clusters`: average linkage of the matcher's
     probabilities over the candidate pairs, cut at its threshold), also cut at other thresholds;
   - labeled + predicted as connected components of the pairs above the threshold (the clusters before
     average linkage, which chain false predicted matches), for comparison;
   - average linkage with every open candidate scored 1 or 0 by the truth: what the method loses to blocking
     alone (a pair blocking did not propose counts as 0), apart from what the matcher loses;
   - the ceiling blocking allows: the clusters a perfect oracle would make by labeling every candidate.
5. The clustering alone at scale: a synthetic 1M products with 9M scored candidate pairs (P8_SCALE, 0 skips).

`python -m bench.p8_dedup --clusters` re-runs steps 4 and 5 on the database the last full run left (the
simulation takes most of the run's 10 minutes), keeping the rest of bench/results/p8_dedup.json.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from bench.common import DATA_DIR, RESULTS_DIR, env_int, log

NAME = "p8 PriceRunner deduplication"
CUTS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
SOURCE = SHARED / "pricerunner" / "pricerunner_aggregate.csv"
FOLDER = DATA_DIR / "p8"


def _offers() -> list[dict[str, str]]:
    with SOURCE.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = [name.strip() for name in next(reader)]
        at = {name: header.index(name) for name in ("Product ID", "Product Title", "Merchant ID", "Cluster ID")}
        return [
            {"external_id": f"pr{row[at['Product ID']]}", "title": row[at["Product Title"]],
             "merchant": row[at["Merchant ID"]], "cluster": row[at["Cluster ID"]]}
            for row in reader
            if row[at["Product Title"]].strip()
        ]


def _products_file(offers: list[dict[str, str]]) -> Path:
    FOLDER.mkdir(parents=True, exist_ok=True)
    path = FOLDER / "products.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "title", "merchant"])
        writer.writerows([offer["external_id"], offer["title"], offer["merchant"]] for offer in offers)
    return path


def pairwise_scores(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float | int]:
    """Pairwise precision, recall and F1 of a clustering (one cluster id per item) against the true one."""

    def pairs(counts: np.ndarray) -> int:
        return int((counts * (counts - 1) // 2).sum())

    _, joint = np.unique(np.stack([predicted, truth]), axis=1, return_counts=True)
    together = pairs(joint.astype(np.int64))
    said = pairs(np.unique(predicted, return_counts=True)[1].astype(np.int64))
    true = pairs(np.unique(truth, return_counts=True)[1].astype(np.int64))
    precision = together / said if said else 0.0
    recall = together / true if true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "pairs_said": said, "pairs_true": true, "pairs_right": together}


def _components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected components, apart from the product's code: the ceiling's and the comparison's clusters."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    graph = sp.coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def run() -> dict:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from bench import p2_setup
    from datasets.models import Product, TaskType
    from labeling.models import Task
    from models_app.models import VersionStatus
    from models_app.services.training import model_version_train, training_request
    from workspace.services.candidates import candidate_run_create, candidate_run_execute
    from workspace.services.datasets import dataset_create

    if not SOURCE.is_file():
        return {"skipped": f"{SOURCE} is not here"}
    k, labels, batch, seed = env_int("P8_K", 10), env_int("P8_LABELS", 1000), env_int("P8_BATCH", 100), 1
    offers = _offers()
    p2_setup.reset()
    lead = get_user_model().objects.create(username="bench-lead")
    dataset = dataset_create(user=lead, name=NAME, task_type=TaskType.MATCHING,
                             seed=seed, retrain_every=0)
    started = time.perf_counter()
    call_command("import_products", str(_products_file(offers)), dataset=str(dataset.pk), stdout=io.StringIO())
    result: dict = {"offers": len(offers), "clusters_true": len({o["cluster"] for o in offers}), "k": k,
                    "labels": labels, "batch": batch, "import_s": round(time.perf_counter() - started, 1)}
    log(f"p8: {len(offers):,} offers imported in {result['import_s']} s; blocking at k={k}")

    run_ = candidate_run_create(dataset=dataset, user=lead, params={"k": k}, enqueue=False)
    run_ = candidate_run_execute(run_id=run_.pk)
    if run_.status != "succeeded":
        raise RuntimeError(f"candidate run failed: {run_.message}")
    report = run_.report
    cluster_of = {o["external_id"]: o["cluster"] for o in offers}
    external = dict(Product.objects.filter(dataset=dataset).values_list("pk", "external_id"))
    pairs = [
        (external[low], external[high])
        for low, high in Task.objects.filter(dataset=dataset, other_product__isnull=False)
        .values_list("product_id", "other_product_id")
        .iterator(chunk_size=20_000)
    ]
    same = np.array([cluster_of[a] == cluster_of[b] for a, b in pairs], dtype=bool)
    truth_pairs = sum(c * (c - 1) // 2 for c in np.unique([o["cluster"] for o in offers], return_counts=True)[1])
    result["blocking"] = {
        "candidates": len(pairs), "matches_among_them": int(same.sum()), "true_pairs": int(truth_pairs),
        "pair_completeness": round(int(same.sum()) / truth_pairs, 4),
        "reduction_ratio": report.get("reduction_ratio"), "seconds": report.get("timings"),
    }
    log(f"p8: {len(pairs):,} candidates, pair completeness {result['blocking']['pair_completeness']}, "
        f"reduction ratio {report.get('reduction_ratio')}")

    # The ceiling: clusters of a perfect oracle that labeled every candidate.
    index = {e: i for i, e in enumerate(cluster_of)}
    truth_ids = np.array([int(cluster_of[e]) for e in cluster_of])
    matched = [(index[a], index[b]) for (a, b), m in zip(pairs, same, strict=True) if m]
    ceiling = _components(len(index), np.array([a for a, _ in matched]), np.array([b for _, b in matched]))
    result["ceiling"] = pairwise_scores(ceiling, truth_ids)

    truth_file = FOLDER / "truth.csv"
    with truth_file.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["left_id", "right_id", "label"])
        writer.writerows([a, b, int(m)] for (a, b), m in zip(pairs, same, strict=True))
    out = FOLDER / "simulation.json"
    started = time.perf_counter()
    call_command("simulate_labeling", dataset=str(dataset.pk), truth=str(truth_file), labels=labels, batch=batch,
                 schedule="50", strategy="margin", seed=seed, out=str(out), quiet=True, stdout=io.StringIO())
    simulation = json.loads(out.read_text())
    result["simulation"] = {"curve": simulation["curve"], "totals": simulation["totals"],
                            "seconds": round(time.perf_counter() - started, 1)}
    version = model_version_train(version_id=training_request(dataset=dataset, user=lead, enqueue=False).pk)
    if version.status != VersionStatus.SUCCEEDED:
        raise RuntimeError(f"the last training failed: {version.message}")
    result |= clusters_evaluate(dataset=dataset, offers=offers)
    result["scale"] = scale_check()
    return result


def rerun_clusters() -> dict:
    """Steps 4 and 5 again on the dataset and scores the last full run left; its other figures are kept."""
    from datasets.models import Dataset

    previous = json.loads((RESULTS_DIR / "p8_dedup.json").read_text())
    dataset = Dataset.objects.filter(name=NAME).order_by("-pk").first()
    if dataset is None:
        raise RuntimeError(f"no dataset {NAME!r} in this database: run the whole bench first")
    return previous | clusters_evaluate(dataset=dataset, offers=_offers()) | {"scale": scale_check()}


def clusters_evaluate(*, dataset, offers: list[dict[str, str]]) -> dict:
    """Step 4 after the simulation: every clustering of the dataset's answers and scores against the truth."""
    from datasets.models import Product
    from labeling.kinds.matching.clustering import labeled_edges, pair_products, scored_pairs
    from labeling.kinds.matching.clusters import Scored, clusters_build
    from models_app.selectors import model_version_active

    active = model_version_active(dataset=dataset)
    threshold = float(active.metrics["threshold"])
    matcher = {key: active.metrics.get(key) for key in ("n", "precision", "recall", "f1", "threshold")}
    index = {o["external_id"]: i for i, o in enumerate(offers)}
    truth_ids = np.array([int(o["cluster"]) for o in offers])
    external = dict(Product.objects.filter(dataset=dataset).values_list("pk", "external_id"))

    def scores(products: np.ndarray, ids: np.ndarray) -> dict:
        assigned = np.arange(len(offers)) + 10**9  # offers in no pair are alone
        for product_id, cluster_id in zip(products.tolist(), ids.tolist(), strict=True):
            assigned[index[external[product_id]]] = cluster_id
        return pairwise_scores(assigned, truth_ids)

    started = time.perf_counter()
    edges = labeled_edges(dataset=dataset)
    scored = scored_pairs(dataset=dataset, resolved=edges.resolved)
    products = pair_products(dataset=dataset)
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    clusters = clusters_build(
        matches=edges.matches, no_matches=edges.no_matches, scored=scored, threshold=threshold, products=products
    )
    cluster_s = time.perf_counter() - started
    result: dict = {
        "matcher": matcher,
        "labeled": scores(clusters.products, clusters.labeled),
        "labeled_predicted": scores(clusters.products, clusters.combined),
        "clustering": {
            "threshold": threshold, "scored_pairs": len(scored), "labeled_matches": len(edges.matches),
            "labeled_no_matches": len(edges.no_matches), "predicted_used": clusters.predicted_used,
            "predicted_inside": clusters.predicted_inside, "largest": clusters.summary(predicted=True)["largest"],
            "largest_labeled": clusters.summary()["largest"],
            "read_s": round(read_s, 2), "cluster_s": round(cluster_s, 2),
        },
    }
    # Connected components of labeled matches and of the pairs above the threshold, less labeled no-matches.
    position = {int(pk): i for i, pk in enumerate(clusters.products)}
    refused = {edge.key for edge in edges.no_matches}
    above = scored.probability >= threshold
    links = [(edge.left, edge.right) for edge in edges.matches] + [
        (a, b) for a, b in zip(scored.left[above].tolist(), scored.right[above].tolist(), strict=True)
        if (min(a, b), max(a, b)) not in refused
    ]
    component = _components(len(position), np.array([position[a] for a, _ in links]),
                            np.array([position[b] for _, b in links]))
    smallest = np.full(component.max() + 1, np.iinfo(np.int64).max)
    np.minimum.at(smallest, component, clusters.products)
    result["components"] = scores(clusters.products, smallest[component])
    result["components"]["largest"] = int(np.bincount(component).max())
    # The method's own ceiling: every open candidate scored 1 or 0 by the truth (what blocking leaves it).
    cluster_of = {o["external_id"]: o["cluster"] for o in offers}
    truth_scores = np.array([cluster_of[external[a]] == cluster_of[external[b]]
                             for a, b in zip(scored.left.tolist(), scored.right.tolist(), strict=True)])
    known = clusters_build(
        matches=edges.matches, no_matches=edges.no_matches, threshold=threshold, products=products,
        scored=Scored(scored.left, scored.right, truth_scores.astype(np.float32)),
    )
    result["linkage_ceiling"] = scores(known.products, known.combined)
    result["cuts"] = {}
    for cut in CUTS:
        other = clusters_build(
            matches=edges.matches, no_matches=edges.no_matches, scored=scored, threshold=cut, products=products
        )
        result["cuts"][f"{cut:g}"] = scores(other.products, other.combined) | {
            "largest": other.summary(predicted=True)["largest"]
        }
    log(f"p8: clusters labeled {result['labeled']['f1']}, labeled + predicted {result['labeled_predicted']}, "
        f"connected components {result['components']['f1']}; clustering {cluster_s:.2f} s")
    return result


def scale_check() -> dict:
    """Step 5: the clustering alone on a synthetic catalog of P8_SCALE products (1M) with about 9 scored
    candidate pairs each, true clusters of 1 to 12 offers and 8% of the wrong pairs scored as matches (chains
    for connected components), 1,000 labeled pairs: its seconds and the peak memory numpy allocated."""
    from labeling.kinds.matching.clusters import Edge, Scored, clusters_build

    n = env_int("P8_SCALE", 1_000_000)
    if not n:
        return {"skipped": "P8_SCALE=0"}
    rng = np.random.default_rng(8)
    truth = np.repeat(np.arange(n), rng.integers(1, 13, size=n))[:n]  # products in order, cluster by cluster
    per = 13
    left = np.repeat(np.arange(n), per)
    # Most candidates are near neighbours (a blocking index ranks similar titles close), a few anywhere.
    right = np.clip(left + rng.integers(-12, 13, size=len(left)), 0, n - 1)
    far = rng.random(len(left)) < 0.1
    right[far] = rng.integers(0, n, size=int(far.sum()))
    keep = left != right
    low, high = np.minimum(left, right)[keep], np.maximum(left, right)[keep]
    key = np.unique(low * n + high)
    low, high = key // n, key % n
    same = truth[low] == truth[high]
    p = np.where(same, rng.beta(6, 2, size=len(key)), rng.beta(1, 8, size=len(key)))
    wrong = ~same & (rng.random(len(key)) < 0.08)
    p[wrong] = rng.uniform(0.5, 1.0, size=int(wrong.sum()))
    labeled = rng.choice(len(key), size=1000, replace=False)
    answers = [(Edge(int(low[k]), int(high[k]), t), bool(same[k])) for t, k in enumerate(labeled.tolist())]
    rest = np.ones(len(key), dtype=bool)
    rest[labeled] = False
    scored = Scored(low[rest], high[rest], p[rest].astype(np.float32))
    tracemalloc.start()
    started = time.perf_counter()
    clusters = clusters_build(
        matches=[e for e, m in answers if m], no_matches=[e for e, m in answers if not m], scored=scored,
        threshold=0.5, products=range(n),
    )
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    result = {
        "products": n, "scored_pairs": len(scored), "seconds": round(seconds, 1), "peak_mb": round(peak / 2**20),
        "clusters": pairwise_scores(clusters.combined, truth),
        "largest": clusters.summary(predicted=True)["largest"],
    }
    log(f"p8: scale {n:,} products, {len(scored):,} pairs: {seconds:.1f} s, peak {result['peak_mb']} MB")
    return result


def markdown(result: dict) -> str:
    if "skipped" in result:
        return f"P8 skipped: {result['skipped']}\n"
    b, c = result["blocking"], result["clustering"]
    lines = [
        "## P8: PriceRunner as deduplication (one source, cluster ids as truth)",
        "",
        f"{result['offers']:,} offers, {result['clusters_true']:,} true clusters, "
        f"{b['true_pairs']:,} same-product pairs.",
        "",
        f"- Blocking at k={result['k']}: {b['candidates']:,} candidates, "
        f"pair completeness **{b['pair_completeness']:.3f}**, reduction ratio **{b['reduction_ratio']:.6f}**.",
        f"- After {result['labels']:,} labels (margin, training every {result['batch']}): matcher "
        f"F1 {result['matcher']['f1']} at threshold {result['matcher']['threshold']}.",
        f"- Clusters of {c['labeled_matches']:,} labeled matches, {c['labeled_no_matches']:,} labeled no-matches "
        f"and {c['scored_pairs']:,} scored open pairs ({c['predicted_used']:,} at or above the threshold, "
        f"{c['predicted_inside']:,} of them inside one cluster after average linkage): read in {c['read_s']} s, "
        f"clustered in **{c['cluster_s']} s**.",
        "",
        "| clusters | pairwise precision | recall | F1 | largest |",
        "| --- | --- | --- | --- | --- |",
    ]
    rows = (
        ("labeled", "labeled matches only", c["largest_labeled"]),
        ("labeled_predicted", f"labeled + predicted: average linkage cut at {c['threshold']:g} (the export's)",
         c["largest"]),
        ("components", f"labeled + predicted: connected components of p ≥ {c['threshold']:g} (before)",
         result["components"]["largest"]),
        ("linkage_ceiling", "average linkage with every open candidate scored by the truth", None),
        ("ceiling", "ceiling: every candidate labeled right", None),
    )
    for name, title, largest in rows:
        s = result[name]
        lines.append(f"| {title} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {largest or ''} |")
    lines += ["", "Average linkage cut at other thresholds (the matcher's own threshold is the export's):", "",
              "| cut | pairwise precision | recall | F1 | largest |", "| --- | --- | --- | --- | --- |"]
    for cut, s in result["cuts"].items():
        lines.append(f"| {cut} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['largest']} |")
    scale = result.get("scale", {})
    if "seconds" in scale:
        lines += ["", f"At scale (synthetic, clustering alone): {scale['products']:,} products, "
                  f"{scale['scored_pairs']:,} scored pairs clustered in **{scale['seconds']} s**, "
                  f"peak numpy memory {scale['peak_mb']:,} MB."]
    return "\n".join(lines) + "\n"


def main() -> int:
    """`python -m bench.p8_dedup [--clusters]`: on its own database (BENCH_DB, default shelfmark_bench), results
    in bench/results/p8_dedup.md and .json. `--clusters` re-runs the clustering on the last run's database."""
    from bench.common import check_server, django_setup, recreate_database

    check_server()
    again = "--clusters" in sys.argv[1:]
    if not again:
        recreate_database()
    django_setup()
    result = rerun_clusters() if again else run()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "p8_dedup.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (RESULTS_DIR / "p8_dedup.md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
