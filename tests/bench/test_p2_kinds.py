"""The P2 setups of every task kind at a tiny scale, so they cannot rot: each loads its tasks with COPY and SQL,
then one next + submit in-process (p2_diagnose, the harness's own) answers as the bench's annotators do."""

import csv
import itertools
import random

import pytest

from bench import p2_matching, p2_relevance, p2_setup, p2_spans
from bench.common import latency_summary
from bench.data import HEADER
from bench.p2_diagnose import diagnose
from bench.report import markdown
from datasets.models import Dataset
from labeling.models import Annotation, AnswerValue, Task

ROWS = 40
LOADS = {
    "categorization": p2_setup.load_dataset,
    "matching": p2_matching.load_pairs,
    "relevance": p2_relevance.load_judgments,
    "spans": p2_spans.load_titles,
}


@pytest.fixture
def catalog_file(tmp_path):
    path = tmp_path / "products_40.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(ROWS):
            category = ("Mobile Phones", "TVs")[n % 2]
            writer.writerow([f"P{n:04d}", f"Acme {category[:-1]} model {n} black 64gb", "Acme", f"{10 + n}.50", "GBP",
                             f"merchant-{n % 3}", category])
    return path


@pytest.mark.postgres
@pytest.mark.parametrize("kind", list(LOADS))
def test_a_kind_loads_its_tasks_and_one_next_and_submit_answer_it(kind, catalog_file, postgres, transactional_db):
    users = p2_setup.annotators()

    setup = LOADS[kind](catalog_file, users)
    report = diagnose(setup, users[1])

    assert "error" not in report, report.get("error")
    tasks = Task.objects.filter(dataset_id=setup.dataset_id)
    assert setup.products == tasks.count() == ROWS
    assert tasks.filter(is_complete=False).count() == ROWS - 2  # overlap 1: the warm and the measured rounds
    assert report["next_query_count"] > 0 and report["submit_query_count"] > 0
    assert any("Execution Time" in line for line in report["next_claim_plan"])
    answers = Annotation.objects.filter(task__dataset_id=setup.dataset_id)
    assert answers.count() == 2
    if kind == "spans":
        assert tasks.filter(suggestions__isnull=False).count() == ROWS  # "Acme" begins every title: its brand
        assert AnswerValue.objects.filter(task__dataset_id=setup.dataset_id).count() == 2
        assert all(answer.value_id is not None and answer.label_id is None for answer in answers)
    elif kind == "relevance":
        assert {answer.label.code for answer in answers} <= set(p2_relevance.GRADES)
        assert tasks.filter(query__isnull=True).count() == 0
        assert tasks.values("query").distinct().count() == ROWS // p2_relevance.PER_QUERY
    else:
        assert all(answer.label_id in setup.labels.values() for answer in answers)


@pytest.mark.postgres
@pytest.mark.parametrize("kind", list(LOADS))
def test_a_next_takes_3_statements_and_a_submit_4_in_every_kind(kind, catalog_file, postgres, transactional_db):
    """Issue 16's bound, counted as the bench counts (DRF's token read included), for an annotator past their
    warm-up (as the bench's are when it measures: their next counts no answers and tries no gold item first)."""
    users = p2_setup.annotators()
    setup = LOADS[kind](catalog_file, users)
    Dataset.objects.filter(pk=setup.dataset_id).update(gold_warmup=0)

    report = diagnose(setup, users[1])

    assert "error" not in report, report.get("error")
    assert report["next_query_count"] <= 3, report["next_queries"]
    assert report["submit_query_count"] <= 4, report["submit_queries"]


def test_span_answers_are_0_to_2_words_apart_on_the_tokens():
    setup = p2_setup.QueueSetup(dataset_id=1, products=1, tokens=[], answer=p2_spans.spans, labels={"BRAND": 7})
    words = ["Acme", " ", "phone", " ", "64gb", " ", "black"]
    task = {"tokens": [{"i": i, "text": text, "ws": False} for i, text in enumerate(words)]}
    rng = random.Random(1)
    seen = set()
    for _ in range(300):
        spans = setup.answer_for(task, rng)["spans"]
        assert len(spans) <= 2
        for start, end, label in spans:
            assert label == 7 and words[start].strip() and words[end].strip() and end - start in (0, 2)
        assert all(after[0] > before[1] for before, after in itertools.pairwise(spans))
        seen.add(len(spans))
    assert seen == {0, 1, 2}


def test_span_answers_take_a_suggestion_as_it_is_half_the_time():
    setup = p2_setup.QueueSetup(dataset_id=1, products=1, tokens=[], answer=p2_spans.spans, labels={"BRAND": 7})
    task = {"tokens": [{"i": 0, "text": "Acme", "ws": True}, {"i": 1, "text": "phone", "ws": False}],
            "span_suggestions": [{"start": 0, "end": 0, "label_id": 7, "probability": None}]}
    rng = random.Random(2)

    taken = sum(setup.answer_for(task, rng)["spans"] == [[0, 0, 7]] for _ in range(400))

    assert 160 < taken < 300  # half take it, and a few random answers happen to be the same span


def _p2_result(scale: int) -> dict:
    """A P2 result as p2_queue.run writes it, at 10k and `scale` (latencies of 40 ms, then 60 ms)."""
    runs = {}
    for count, seconds in ((10_000, 0.04), (scale, 0.06)):
        figures = latency_summary([seconds] * 20)
        runs[str(count)] = {"products": count, "next": figures, "submit": figures, "pair": figures, "errors": {},
                            "error_count": 0, "first_errors": [], "pairs_per_s": 15.0, "empty_queue_204": 0,
                            "reconnects": 0, "lock_waits": {}, "diagnostics": {"next_query_count": 9}}
    return {**runs, "scale": scale, "annotators": 16, "think_seconds": 1.0, "warmup_seconds": 5.0,
            "pair_p95_ms_at_scale": 60.0, "pair_p95_ms_at_10k": 40.0, "ratio": 1.5, "target_p95_ms": 50.0,
            "target_ratio": 1.5, "pass_p95": False, "pass_ratio": True, "target_p95_ms_floor": 25.0,
            "pass_p95_floor": False, "queries_at_scale": [3, 5], "target_queries": [3, 4], "pass_queries": False}


def test_the_report_has_a_p2_row_per_kind_measured_or_not():
    results = {"date": "now", "total_seconds": 1, "failures": [], "p2r": _p2_result(1_000_000),
               "machine": {"cpu_count": 2, "python": "3", "postgres": "PostgreSQL"},
               "parameters": {"SCALE": 1_000_000, "P2_SECONDS": 30, "P2_THINK": 1.0, "source": "demo"}}

    page = markdown(results)

    assert "| P2r | next + submit p95, 16 annotators, 1,000,000 (query, product) tasks (relevance) | 60.0 ms" in page
    assert "| P2r | p95 at 1,000,000 / p95 at 10,000 | 1.50 (60.0 / 40.0 ms) | <= 1.5 | PASS |" in page
    assert "### P2r: latency over HTTP" in page and "| 1,000,000 | pair | 20 |" in page
    assert "| P2s | next + submit p95, products (attribute spans) | not run |" in page
    assert "| P2r | next + submit p95 at 1,000,000, issue 16's target | 60.0 ms | < 25 ms | SHORT |" in page
    assert "| P2r | statements per next / submit (in-process, at 1,000,000) | 3 / 5 | <= 3 / <= 4 | SHORT |" in page


def test_the_training_benchmarks_annotators_answer_with_the_products_category():
    """P2t's annotators are P2's, and ask their setup for each answer (a setup without `answer_for` left every
    annotator thread dead and the figures empty)."""
    from bench.p12_submit_during_training import Setup

    setup = Setup(dataset_id=1, labels={"Mobile Phones": 7, "TVs": 8}, tokens=[])
    task = {"product": {"attributes": {"category": "TVs"}}}
    assert setup.answer_for(task, random.Random(0)) == {"label": 8}
