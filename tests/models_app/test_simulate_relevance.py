"""simulate_labeling on a relevance dataset: an oracle grading (query, product) pairs from a judgments file through
the real queue and ranker training, nDCG@10 of BM25 and of the ranker on held-out queries at each checkpoint."""

import csv
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from labeling.models import Annotation, Task
from models_app.models import ModelVersion, VersionStatus
from models_app.services.simulation_oracle import ORACLE
from tests.models_app.relevance_set import relevance_set

pytestmark = pytest.mark.django_db


def truth_file(path: Path, truth: dict, *, grade=lambda grade: grade) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["query_id", "product_id", "esci_label"])
        writer.writerows([query, product, grade(value)] for (query, product), value in sorted(truth.items()))
    return path


def simulate(dataset, truth: Path, out: Path, *options: str) -> dict:
    call_command(
        "simulate_labeling", "--dataset", str(dataset.pk), "--truth", str(truth), "--labels", "60", "--batch", "20",
        "--heldout", "0.3", "--seed", "3", "--out", str(out), *options, stdout=StringIO(), stderr=StringIO(),
    )
    return json.loads(out.read_text())


@pytest.mark.parametrize("strategy", ["entropy", "random"])
def test_the_oracle_grades_through_the_queue_and_the_ranker_is_measured_on_held_out_queries(tmp_path, strategy):
    dataset, truth = relevance_set(cold_start_examples=1)
    open_before = Task.objects.filter(dataset=dataset, is_complete=False).count()

    report = simulate(dataset, truth_file(tmp_path / "truth.csv", truth), tmp_path / "out.json", "--strategy", strategy)

    assert [point["labels"] for point in report["curve"]] == [20, 40, 60]
    assert report["heldout_queries"] == round(18 * 0.3) and report["pool_queries"] == 18 - report["heldout_queries"]
    assert report["heldout_pairs_ranked"] >= report["heldout_size"] > 0
    for point in report["curve"]:
        assert point["status"] == VersionStatus.SUCCEEDED
        assert 0 < point["bm25_ndcg_at_10"] <= 1 and 0 < point["ndcg_at_10"] <= 1 and 0 <= point["accuracy"] <= 1
    assert len({point["bm25_ndcg_at_10"] for point in report["curve"]}) == 1  # BM25 does not learn
    assert report["curve"][-1]["ndcg_at_10"] >= report["curve"][-1]["bm25_ndcg_at_10"] - 0.05
    assert report["totals"]["labels"] == Annotation.objects.filter(user__username=ORACLE).count() == 60
    assert ModelVersion.objects.filter(dataset=dataset).count() == 3
    # The held-out queries' tasks were never served, and are open again.
    assert Task.objects.filter(dataset=dataset, is_complete=False).count() == open_before - 60


def test_the_grades_are_read_on_the_datasets_scale_and_a_bad_one_is_refused(tmp_path):
    dataset, truth = relevance_set()
    numbers = {"E": "3", "S": "2", "I": "0"}
    report = simulate(dataset, truth_file(tmp_path / "truth.csv", truth, grade=numbers.get), tmp_path / "out.json",
                      "--labels", "20")
    assert report["curve"][0]["status"] == VersionStatus.SUCCEEDED

    bad = truth_file(tmp_path / "bad.csv", truth, grade=lambda grade: "great" if grade == "E" else grade)
    with pytest.raises(CommandError, match=r"line \d+: Unknown grade 'great' on the ESCI scale"):
        simulate(dataset, bad, tmp_path / "out2.json")


def test_a_truth_naming_no_task_is_refused_before_any_label(tmp_path):
    dataset, _ = relevance_set()
    other = truth_file(tmp_path / "truth.csv", {("nobody", "nothing"): "E"})
    with pytest.raises(CommandError, match="None of the truth's 1 pairs is an open, unjudged task"):
        simulate(dataset, other, tmp_path / "out.json")
    assert not Annotation.objects.exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--compare-full",), "--compare-full is for categorization and matching datasets"),
        (("--label-column", "grade"), "A relevance truth is a judgments file"),
        (("--left-column", "a"), "--left-column and --right-column name the sides of pairs"),
    ],
)
def test_options_of_the_other_kinds_are_refused(tmp_path, options, message):
    dataset, truth = relevance_set()
    with pytest.raises(CommandError, match=message):
        simulate(dataset, truth_file(tmp_path / "truth.csv", truth), tmp_path / "out.json", *options)
    assert not Annotation.objects.exists()
