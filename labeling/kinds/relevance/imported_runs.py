"""Another ranker's results for a relevance dataset (the shop's own search engine, a new model), named by the
dataset's query and product ids as a run file names them (`datasets.importers.runs`), turned into the
database ids `relevance_candidates(runs=...)` pools and keeps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from config.errors import ApplicationError
from datasets.models import Dataset, Product, Query
from labeling.kinds.relevance.candidates import BM25, MAX_RANKER_NAME

SHOWN = 5
LOOKUP_CHUNK = 900  # ids per IN (...): under SQLite's older limit of 999 parameters


def imported_runs_resolve(
    *, dataset: Dataset, run: Mapping[str, Mapping[str, Sequence[str]]]
) -> dict[str, dict[int, list[int]]]:
    """ranker -> query id -> product ids, best first, from the same keyed by external ids; a clear error naming
    the first ids the dataset does not hold, or a ranker's name it cannot take."""
    for ranker in run:
        if not ranker or len(ranker) > MAX_RANKER_NAME or ranker == BM25:
            raise ApplicationError(
                f"A ranker needs a name of 1 to {MAX_RANKER_NAME} characters other than {BM25!r}; got {ranker!r}.",
                extra={"fields": {"ranker": [f"1 to {MAX_RANKER_NAME} characters, not {BM25!r}"]}},
            )
    query_ids = {external_id for ranking in run.values() for external_id in ranking}
    product_ids = {external_id for ranking in run.values() for results in ranking.values() for external_id in results}
    queries, products = _ids(Query, dataset, query_ids), _ids(Product, dataset, product_ids)
    unknown = [("query", sorted(query_ids - set(queries))), ("product", sorted(product_ids - set(products)))]
    problems = [f"{len(ids)} {noun} id{'s' if len(ids) > 1 else ''} ({', '.join(ids[:SHOWN])}"
                f"{', …' if len(ids) > SHOWN else ''})" for noun, ids in unknown if ids]
    if problems:
        raise ApplicationError(
            f"The run names {' and '.join(problems)} that this dataset does not hold; import them first or "
            "remove them from the run.",
            extra={"unknown_queries": unknown[0][1][:100], "unknown_products": unknown[1][1][:100]},
        )
    return {
        ranker: {queries[query]: [products[product] for product in results] for query, results in ranking.items()}
        for ranker, ranking in run.items()
    }


def _ids(model: type[Query] | type[Product], dataset: Dataset, external_ids: set[str]) -> dict[str, int]:
    """external id -> id of those the dataset holds."""
    wanted, found = sorted(external_ids), {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        rows = model.objects.filter(dataset=dataset, external_id__in=wanted[start : start + LOOKUP_CHUNK])
        found.update(rows.values_list("external_id", "pk"))
    return found
