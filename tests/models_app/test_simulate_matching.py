"""simulate_labeling on a matching dataset: pairs imported with import_pairs, an oracle answering from a truth of
labeled pairs through the real queue and matcher training, precision / recall / F1 on held-out pairs."""

import csv
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from datasets.models import Dataset
from labeling.kinds import KINDS
from labeling.kinds.matching.kind import MatchingKind
from labeling.models import Annotation, Task
from models_app.models import ModelVersion
from models_app.services.simulation_oracle import ORACLE
from tests.factories import DatasetFactory, MatchingDatasetFactory

pytestmark = pytest.mark.django_db

BRANDS = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark")
THINGS = ("laptop", "monitor", "router", "keyboard", "tablet", "printer")
PRODUCTS = 60


def shop_a(i: int) -> str:
    return f"{BRANDS[i % 6]} {THINGS[(i // 6) % 6]} {chr(65 + i % 26)}{100 + i} black"


def shop_b(i: int) -> str:
    """The same product as another shop words it: other order, case and noise, the same model number."""
    return f"{THINGS[(i // 6) % 6].title()} {chr(97 + i % 26)}{100 + i} by {BRANDS[i % 6].upper()} - free shipping"


def pair_rows() -> list[dict]:
    """60 matches and 60 non-matches (the same brand's other product: a hard negative); every third product's
    pairs are the test split."""
    rows = []
    for i in range(PRODUCTS):
        split = "test" if i % 3 == 0 else "train"
        other = (i + 6) % PRODUCTS
        rows.append({"split": split, "left_id": f"a{i}", "left_title": shop_a(i), "right_id": f"b{i}",
                     "right_title": shop_b(i), "label": 1})
        rows.append({"split": split, "left_id": f"a{i}", "left_title": shop_a(i), "right_id": f"b{other}",
                     "right_title": shop_b(other), "label": 0})
    return rows


def write_csv(path: Path, rows: list[dict], columns: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def imported(tmp_path: Path, columns: list[str], **settings) -> tuple[Dataset, Path]:
    """A matching dataset holding the pairs, imported without their labels, and the pairs file."""
    dataset = MatchingDatasetFactory(name="Offers", retrain_every=9, random_fraction=0.2, seed=4, **settings)
    pairs = write_csv(tmp_path / "pairs.csv", pair_rows(), columns)
    call_command("import_pairs", str(pairs), "--dataset", "Offers", "--no-labels", stdout=StringIO())
    assert Task.objects.filter(dataset=dataset).count() == 2 * PRODUCTS
    return dataset, pairs


def simulate(dataset: Dataset, truth: Path, out: Path, *argv: str) -> dict:
    call_command(
        "simulate_labeling", "--dataset", str(dataset.pk), "--truth", str(truth), "--out", str(out), "--quiet",
        *argv, stdout=StringIO(),
    )
    return json.loads(out.read_text())


def test_titles_only_pairs_file_as_truth_with_its_splits(tmp_path):
    """WDC's layout: offers named by their titles alone (the import hashes them into ids), a split column."""
    dataset, pairs = imported(tmp_path, ["split", "left_title", "right_title", "label"])
    keys_before = dict(Task.objects.filter(dataset=dataset).values_list("pk", "random_key"))
    report = simulate(
        dataset, pairs, tmp_path / "report.json", "--labels", "40", "--batch", "10", "--schedule", "5",
        "--heldout-split", "test", "--pool-split", "train", "--seed", "2", "--compare-full",
    )

    assert (report["heldout_size"], report["heldout_matches"]) == (40, 20)
    assert (report["pool_size"], report["pool_matches"]) == (80, 40)
    assert report["heldout"] == {"split": "test"} and report["pool_split"] == "train"
    assert [point["labels"] for point in report["curve"]] == [5, 10, 20, 30, 40]
    assert all(point["status"] == "succeeded" for point in report["curve"][2:]), report["curve"]
    final = report["curve"][-1]
    assert {"precision", "recall", "f1", "threshold"} <= set(final) and "accuracy" not in final
    assert final["best_f1"] >= max(final["f1"], final["f1_at_half"])  # the held-out's own best threshold
    assert final["f1"] >= 0.8, report["curve"]
    assert report["totals"]["f1"] == final["f1"] and report["totals"]["labels"] == 40
    assert report["full_pool"]["labels"] == 80 and report["full_pool"]["f1"] >= 0.8
    # Each measured version is one the services trained, and the oracle alone answered, only pool pairs.
    assert ModelVersion.objects.filter(dataset=dataset).count() == 5
    answered = Annotation.objects.filter(dataset=dataset)
    assert answered.count() == 40 and set(answered.values_list("user__username", flat=True)) == {ORACLE}
    assert {split for (split,) in answered.values_list("task__attributes__split")} == {"train"}
    # The held-out pairs were kept out of the queue and are open again; the settings and the order are back.
    assert Task.objects.filter(dataset=dataset, is_complete=False).count() == 2 * PRODUCTS - 40
    dataset.refresh_from_db()
    assert (dataset.retrain_every, dataset.random_fraction, dataset.seed) == (9, 0.2, 4)
    assert dict(Task.objects.filter(dataset=dataset).values_list("pk", "random_key")) == keys_before


def test_a_truth_of_ids_in_either_order_with_a_held_out_fraction(tmp_path):
    dataset, _ = imported(
        tmp_path, ["left_id", "left_title", "right_id", "right_title"], model_config={"classifier": "logreg"}
    )
    # The truth names each pair right side first, in id_left / id_right columns, with worded labels.
    rows = [{"id_left": row["right_id"], "id_right": row["left_id"], "label": ["no match", "match"][row["label"]]}
            for row in pair_rows()]
    truth = write_csv(tmp_path / "truth.csv", rows, ["id_left", "id_right", "label"])
    report = simulate(dataset, truth, tmp_path / "r.json", "--labels", "30", "--batch", "15", "--strategy", "random")

    assert (report["heldout_size"], report["pool_size"], report["truth_not_in_dataset"]) == (24, 96, 0)
    assert report["heldout"] == {"fraction": 0.2} and report["heldout_matches"] == 12
    assert [point["labels"] for point in report["curve"]] == [15, 30]
    assert report["curve"][-1]["f1"] >= 0.8, report["curve"]
    matches = Annotation.objects.filter(dataset=dataset, label__code="1").count()
    assert 0 < matches < 30  # the oracle answered both ways, as the truth says


def test_the_same_seed_labels_the_same_pairs_in_another_import(tmp_path):
    """The random order follows the products' external ids, not the database ids an import happened to give."""
    orders = []
    for n in (1, 2):
        folder = tmp_path / str(n)
        folder.mkdir()
        # The second import's products get other ids (the first one's are still there).
        Dataset.objects.filter(name="Offers").update(name="Offers (before)")
        dataset, pairs = imported(folder, ["split", "left_title", "right_title", "label"])
        simulate(dataset, pairs, folder / "r.json", "--labels", "12", "--batch", "12", "--strategy", "random")
        orders.append(
            [
                tuple(sorted(product.title for product in task.sides()))
                for task in Task.objects.filter(dataset=dataset, annotations__isnull=False).order_by("annotations__pk")
            ]
        )
    assert len(orders[0]) == 12 and orders[0] == orders[1]


@pytest.mark.parametrize(
    ("text", "argv", "message"),
    [
        ("left_id,right_id,label\na1,b1,1\na2,b2,maybe\n", (), r"line 3: label 'maybe' is not 1/0, match/no match"),
        ("left_id,right_id,same\na1,b1,1\n", (), r"no label column \(label, is_match, gold\); found columns left_id"),
        ("left_id,right_id,label\na1,b1,1\nb1,a1,0\n", (), r"line 3: the pair 'b1' / 'a1' is labeled match on line 2"),
        ("left_id,rid,label\na1,b1,1\n", (), r"found the left id column 'left_id' but not the other side's"),
        ("left_id,right_id,label\na1,,1\n", (), r"line 2: a labeled pair needs both ids"),
        ("left_id,right_id,label\na1,b1,1\n", ("--left-column", "lid"), r"no left id column 'lid'"),
        ("left_id,right_id,label\nx1,y1,1\nx2,y2,0\n", (), r"None of the truth's 2 pairs is an open, unlabeled pair"),
        ("left_id,right_id,label\na1,b1,\n", (), r"no labeled pair"),
        ("sku,label\na1,1\n", (), r"no id columns \(left_id, right_id, \.\.\.\) and no pairs layout"),
        ("left_id,right_id,label\na1,b1,1\n", ("--pool-split", "train_large"), r"pool split 'train_large'"),
        (
            "left_id,right_id,label\na1,b1,1\n",
            ("--heldout-split", "valid"),
            r"held-out split 'valid'; their splits: 'train' \(1\)",
        ),
    ],
)
def test_a_bad_truth_is_a_clear_error_and_nothing_is_labeled(tmp_path, text, argv, message):
    dataset, _ = imported(tmp_path, ["split", "left_id", "left_title", "right_id", "right_title"])
    truth = tmp_path / "truth.csv"
    truth.write_text(text)
    out = tmp_path / "out.json"
    with pytest.raises(CommandError, match=message):
        simulate(dataset, truth, out, "--labels", "10", *argv)
    assert not Annotation.objects.filter(dataset=dataset).exists() and not out.exists()
    assert not Task.objects.filter(dataset=dataset, is_complete=True).exists()


def test_a_binary_truth_file_is_refused(tmp_path):
    dataset, _ = imported(tmp_path, ["left_id", "left_title", "right_id", "right_title"])
    truth = tmp_path / "truth.csv"
    truth.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    with pytest.raises(CommandError, match=r"truth\.csv: This file looks like a PNG image, not CSV"):
        simulate(dataset, truth, tmp_path / "out.json")


def test_pair_options_on_a_categorization_dataset_are_refused(tmp_path):
    DatasetFactory(name="Catalog")
    truth = tmp_path / "truth.csv"
    truth.write_text("external_id,label\nP1,Shoes\n")
    with pytest.raises(CommandError, match="--left-column and --right-column name the sides of pairs"):
        call_command("simulate_labeling", "--dataset", "Catalog", "--truth", str(truth), "--left-column", "a")


class TablesKind(MatchingKind):
    """A kind registered after the simulation was written: it has no simulation of its own."""

    name = "tables"
    title = "Attribute tables"


def test_a_kind_without_a_simulation_is_refused_before_the_truth_is_read(tmp_path, monkeypatch):
    monkeypatch.setitem(KINDS, "tables", TablesKind())
    dataset = MatchingDatasetFactory(name="Queries")
    Dataset.objects.filter(pk=dataset.pk).update(task_type="tables")
    out = tmp_path / "out.json"
    with pytest.raises(
        CommandError,
        match=r"'Queries' is a dataset of attribute tables; .* search relevance and attribute span datasets only",
    ):
        simulate(dataset, tmp_path / "missing.csv", out)
    assert not out.exists() and not Annotation.objects.exists()
