"""P2 for attribute spans: next + submit of a title's spans over HTTP, 16 annotators, at 10k and SCALE products.

The same clients, server and measurement as P2 (`p2_queue.run`). The dataset (the default span types) holds one
product and one open task per catalog row, loaded with COPY and set-based SQL. A task whose title begins with
its brand has that word suggested as BRAND, as the import's pre-annotation would (computed in SQL: `preannotate`
is per row Python). Half the annotators' answers to a suggestion take it as it is; the others (and every task
without one) are 0, 1 or 2 spans of one or two words on the `tokens` next returned, of a type at random: posted
as [token_start, token_end, label id] triples, kept as an AnswerValue row of the task.
"""

from __future__ import annotations

import random
from pathlib import Path

from bench import p2_queue
from bench.p2_setup import QueueSetup, kind_dataset, load_tasks

# P2's tasks (random_key as labeling.queue.random_key), with the brand's suggestion [[0, 0, BRAND, null]] when the
# title's first word is the brand (the catalog's brand is often the title's first word).
TASKS = """
INSERT INTO labeling_task (dataset_id, product_id, is_gold, annotation_count, is_complete, priority, random_key,
                           suggestions, created_at)
SELECT %s, id, false, 0, false, 0, ('x' || substr(md5(%s || ':' || external_id), 1, 14))::bit(56)::bigint,
       CASE WHEN brand <> '' AND lower(split_part(title, ' ', 1)) = lower(brand)
            THEN jsonb_build_array(jsonb_build_array(0, 0, %s::integer, NULL)) END,
       now()
FROM datasets_product WHERE dataset_id = %s
"""


def _tasks(cursor, dataset) -> None:
    from datasets.models import Label

    brand = Label.objects.get(dataset=dataset, code="BRAND").pk
    cursor.execute(TASKS, [dataset.pk, str(dataset.seed), brand, dataset.pk])


def spans(setup: QueueSetup, task: dict, rng: random.Random) -> dict:
    """The suggested spans half the time there are some, else 0-2 non-overlapping spans of one or two words (a
    word: a token that is not whitespace)."""
    suggested = task.get("span_suggestions") or []
    if suggested and rng.random() < 0.5:
        return {"spans": [[span["start"], span["end"], span["label_id"]] for span in suggested]}
    words = [token["i"] for token in task["tokens"] if token["text"].strip()]
    starts = sorted(rng.sample(words, min(len(words), rng.choice((0, 1, 1, 2)))))
    chosen = []
    for n, start in enumerate(starts):
        end = start
        following = [word for word in words if word > start]
        # Two words when the next word is free (not the next span's start).
        if following and rng.random() < 0.5 and (n + 1 == len(starts) or following[0] < starts[n + 1]):
            end = following[0]
        chosen.append([start, end, rng.choice(list(setup.labels.values()))])
    return {"spans": chosen}


def load_titles(path: Path, users: list) -> QueueSetup:
    """A span dataset: every row of `path` a product with an open task, no answers, no suggestions."""
    return load_tasks(path, users, create=kind_dataset("spans", f"bench spans {path.stem}"), fill=_tasks,
                      answer=spans)


def run(scale: int) -> dict[str, object]:
    return p2_queue.run(scale, load=load_titles, name="p2s")
