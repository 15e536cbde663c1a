"""simulate_labeling on a span dataset: an oracle marking the demo attributes' titles with their true spans
through the real queue and tagger training, entity F1 on held-out titles at each checkpoint, in uncertainty
order and in random order."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from datasets.models import Dataset
from labeling.models import Annotation, AnswerValue, Task
from models_app.models import VersionStatus
from models_app.services.simulation_oracle import ORACLE

pytestmark = pytest.mark.django_db
TINY = {"epochs": 12, "beam_width": 4, "holdout": 0.2}


def load(tmp_path: Path, name: str) -> tuple[int, Path]:
    truth = tmp_path / f"{name}.jsonl"
    out = StringIO()
    call_command("load_demo_attributes", "--name", name, "--products", "50", "--seed", "5", "--truth", str(truth),
                 stdout=out)
    assert "50 products" in out.getvalue() and len(truth.read_text().splitlines()) == 50
    dataset = Dataset.objects.get(name=name)
    Dataset.objects.filter(pk=dataset.pk).update(model_config=TINY, cold_start_examples=1)
    return dataset.pk, truth


def simulate(dataset_id: int, truth: Path, out: Path, *options: str) -> dict:
    call_command(
        "simulate_labeling", "--dataset", str(dataset_id), "--truth", str(truth), "--labels", "30", "--batch", "10",
        "--heldout", "0.2", "--seed", "3", "--out", str(out), *options, stdout=StringIO(), stderr=StringIO(),
    )
    return json.loads(out.read_text())


def test_the_oracle_marks_titles_in_uncertainty_and_random_order_and_entity_f1_is_reported(tmp_path):
    reports = {}
    for strategy in ("margin", "random"):
        dataset_id, truth = load(tmp_path, f"Demo attributes {strategy}")
        reports[strategy] = simulate(dataset_id, truth, tmp_path / f"{strategy}.json", "--strategy", strategy)
        assert Task.objects.filter(dataset_id=dataset_id, is_complete=False).count() == 50 - 30
    for strategy, report in reports.items():
        print(f"\n{strategy}: " + ", ".join(f"{p['labels']} labels F1 {p['f1']}" for p in report["curve"]))
        assert [point["labels"] for point in report["curve"]] == [10, 20, 30]
        assert (report["heldout_size"], report["pool_size"]) == (10, 40)
        for point in report["curve"]:
            assert point["status"] == VersionStatus.SUCCEEDED, point.get("error")
            for name in ("precision", "recall", "f1", "macro_f1"):
                assert 0 <= point[name] <= 1
        assert report["curve"][-1]["f1"] > 0
    assert Annotation.objects.filter(user__username=ORACLE).count() == 60
    assert AnswerValue.objects.count() == 60


def test_a_truth_of_other_types_is_refused(tmp_path):
    dataset_id, _ = load(tmp_path, "Demo attributes")
    truth = tmp_path / "other.jsonl"
    truth.write_text('{"external_id": "DEMO-ATTR-000001", "spans": [{"token_start": 0, "token_end": 0, '
                     '"label": "FLAVOR"}]}\n')
    with pytest.raises(CommandError, match=r"marks types \['FLAVOR'\]"):
        simulate(dataset_id, truth, tmp_path / "out.json")
    truth.write_text('{"external_id": "DEMO-ATTR-000001", "spans": [[0, 0, "BRAND"]]}\n')
    with pytest.raises(CommandError, match="line 1: not"):
        simulate(dataset_id, truth, tmp_path / "out.json")
