"""P8: PriceRunner as deduplication: all 35k offers, one source, no pairs given; its cluster ids are the truth.

1. The offers are imported into a fresh matching dataset (`import_products`), with no pairs at all.
2. Blocking (`candidate_run_execute`, k=10, the default settings): its pair completeness (the share of the
   truth's same-cluster pairs among the candidates) and reduction ratio (the share of the n(n-1)/2 pairs
   nobody has to look at).
3. An oracle labels P8_LABELS candidate pairs through the real queue (`simulate_labeling`, margin, training
   every P8_BATCH labels; 20% of the candidates held out for the matcher's precision / recall / F1).
4. A last training rescores every open pair; the clusters (connected components) from the labeled matches
   alone, and from labeled + predicted matches above the matcher's threshold, are compared with the truth by
   pairwise precision and recall over every offer: of the pairs of offers put in one cluster, how many are
   one product; of the pairs of offers that are one product, how many were put in one cluster.
   The ceiling of what blocking allows: the clusters a perfect oracle would make by labeling every candidate.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from bench.common import DATA_DIR, env_int, log

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
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    graph = sp.coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def run() -> dict:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from bench import p2_setup
    from datasets.models import Product, TaskType
    from labeling.kinds.matching.clustering import dataset_clusters
    from labeling.models import TaskItem
    from models_app.models import VersionStatus
    from models_app.selectors import model_version_active
    from models_app.services.training import model_version_train, training_request
    from workspace.services.candidates import candidate_run_create, candidate_run_execute
    from workspace.services.datasets import dataset_create

    if not SOURCE.is_file():
        return {"skipped": f"{SOURCE} is not here"}
    k, labels, batch, seed = env_int("P8_K", 10), env_int("P8_LABELS", 1000), env_int("P8_BATCH", 100), 1
    offers = _offers()
    p2_setup.reset()
    lead = get_user_model().objects.create(username="bench-lead")
    dataset = dataset_create(user=lead, name="p8 PriceRunner deduplication", task_type=TaskType.MATCHING,
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
    sides: dict[int, dict[str, int]] = defaultdict(dict)
    for task_id, product_id, role in TaskItem.objects.filter(task__dataset=dataset).values_list(
        "task_id", "product_id", "role"
    ).iterator(chunk_size=20_000):
        sides[task_id][role] = product_id
    pairs = [(external[s["left"]], external[s["right"]]) for s in sides.values()]
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
    active = model_version_active(dataset=dataset)
    clusters = dataset_clusters(dataset=dataset, threshold=active.metrics["threshold"])
    position = {int(pk): i for i, pk in enumerate(clusters.products)}
    for name, ids in (("labeled", clusters.labeled), ("labeled_predicted", clusters.combined)):
        assigned = np.arange(len(index)) + 10**9  # offers in no pair are alone
        for product_id, i in position.items():
            assigned[index[external[product_id]]] = int(ids[i])
        result[name] = pairwise_scores(assigned, truth_ids)
    result["matcher"] = {key: active.metrics.get(key) for key in ("n", "precision", "recall", "f1", "threshold")}
    log(f"p8: clusters labeled {result['labeled']}, labeled + predicted {result['labeled_predicted']}")
    return result


def markdown(result: dict) -> str:
    if "skipped" in result:
        return f"P8 skipped: {result['skipped']}\n"
    b = result["blocking"]
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
        "",
        "| clusters | pairwise precision | recall | F1 |",
        "| --- | --- | --- | --- |",
    ]
    for name, title in (("labeled", "labeled matches only"), ("labeled_predicted", "labeled + predicted"),
                        ("ceiling", "ceiling: every candidate labeled right")):
        s = result[name]
        lines.append(f"| {title} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    """`python -m bench.p8_dedup`: on its own database (BENCH_DB, default shelfmark_bench), results in
    bench/results/p8_dedup.md and .json."""
    from bench.common import RESULTS_DIR, check_server, django_setup, recreate_database

    check_server()
    recreate_database()
    django_setup()
    result = run()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "p8_dedup.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (RESULTS_DIR / "p8_dedup.md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
