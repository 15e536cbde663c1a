"""P2 for search relevance: next + submit of (query, product) tasks over HTTP, 16 annotators, at 10k and SCALE.

The same clients, server and measurement as P2 (`p2_queue.run`). The dataset (ESCI scale) holds one product
per catalog row and one query per 10 products (the candidates' pool per query): SCALE products, SCALE / 10
queries and SCALE open (query, product) tasks, loaded with COPY and set-based SQL, not through the candidates
job (BM25 over 1M products is P9's measure, not the queue's). A query's text is the first three words of its
first product's title. Each answer is a grade through the judge's single mode in the API (`tasks/next`, then
`tasks/<id>/submit` with `answer` a grade code), drawn with plausible shares.
"""

from __future__ import annotations

import random
from pathlib import Path

from bench import p2_queue
from bench.p2_setup import QueueSetup, kind_dataset, load_tasks

PER_QUERY = 10
# Products in id order, ten a query: the query's number and the product's external id (seeds its queue place).
JUDGED = """
CREATE TEMP TABLE bench_judged ON COMMIT DROP AS
SELECT id AS product_id, external_id, title, ((row_number() OVER (ORDER BY id)) - 1) / %s AS query_number
FROM datasets_product WHERE dataset_id = %s
"""
QUERIES = """
INSERT INTO datasets_query (dataset_id, external_id, text, locale, weight, created_at, updated_at)
SELECT DISTINCT ON (query_number) %s, 'q' || query_number,
       coalesce(nullif(array_to_string((regexp_split_to_array(title, '\\s+'))[1:3], ' '), ''), 'query'), 'us', 1.0,
       now(), now()
FROM bench_judged ORDER BY query_number, product_id
"""
# Random keys as the candidates job makes them (pair_key: a hash of seed, query and product), computed in SQL.
TASKS = """
INSERT INTO labeling_task (dataset_id, product_id, query_id, is_gold, annotation_count, is_complete, priority,
                           random_key, needs_review, created_at)
SELECT %s, judged.product_id, query.id, false, 0, false, 0,
       ('x' || substr(md5(%s || ':' || query.external_id || chr(31) || judged.external_id), 1, 14))::bit(56)::bigint,
       false, now()
FROM bench_judged AS judged
JOIN datasets_query AS query ON query.dataset_id = %s AND query.external_id = 'q' || judged.query_number
"""
# Exact most often, as in the candidates' top 10 of a fair ranker; ESCI's codes, as a client would send them.
GRADES = ("E", "S", "C", "I")
SHARES = (0.5, 0.2, 0.05, 0.25)


def _judged(cursor, dataset) -> None:
    cursor.execute(JUDGED, [PER_QUERY, dataset.pk])
    cursor.execute(QUERIES, [dataset.pk])
    cursor.execute(TASKS, [dataset.pk, str(dataset.seed), dataset.pk])


def grade(setup: QueueSetup, task: dict, rng: random.Random) -> dict:
    return {"answer": rng.choices(GRADES, SHARES)[0]}


def load_judgments(path: Path, users: list) -> QueueSetup:
    """A relevance dataset: every row of `path` a product, judged for one of SCALE / 10 queries, no answers."""
    return load_tasks(path, users, create=kind_dataset("relevance", f"bench relevance {path.stem}"), fill=_judged,
                      answer=grade, tables=("datasets_query",))


def run(scale: int) -> dict[str, object]:
    return p2_queue.run(scale, load=load_judgments, name="p2r")
