import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from labeling.models import Annotation, Task
from tests.factories import DatasetFactory, MatchingDatasetFactory

pytestmark = pytest.mark.django_db

PAIRS = (
    "split,left_title,left_brand,right_title,right_brand,label\n"
    "train,Lumen Desk Lamp LX-200,Lumen,LUMEN LX200 desk lamp,Lumen,1\n"
    "train,Lumen Desk Lamp LX-200,Lumen,Lumen LX-300 floor lamp,Lumen,0\n"
    "test,Kestrel Edge 128GB,,Kestrel Edge 256GB,,oops\n"
)


def import_pairs(path, *argv: str) -> dict:
    out = StringIO()
    call_command("import_pairs", str(path), *argv, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_imports_a_pairs_file_inline_and_reports_its_counts(tmp_path):
    dataset = MatchingDatasetFactory(name="offers")
    path = tmp_path / "pairs.csv"
    path.write_text(PAIRS)
    summary = import_pairs(path, "--dataset", "offers", "--label-source", "wdc")
    assert (summary["status"], summary["created"], summary["labels"], summary["rejected"]) == ("succeeded", 2, 2, 1)
    assert "4 lines read: 2 pairs created, 0 updated, 1 rows rejected" in summary["message"]
    assert Task.objects.filter(dataset=dataset).count() == 2
    assert set(Annotation.objects.values_list("source_name", flat=True)) == {"wdc"}
    assert [task.attributes for task in Task.objects.all()] == [{"split": "train"}, {"split": "train"}]


def test_a_named_label_column_and_a_second_run_that_updates(tmp_path):
    MatchingDatasetFactory(name="offers")
    path = tmp_path / "pairs.csv"
    path.write_text("left_id,left_title,right_id,right_title,same\na1,Lamp,b1,Lamp LX,1\n")
    first = import_pairs(path, "--dataset", "offers", "--label-column", "same")
    again = import_pairs(path, "--dataset", "offers", "--label-column", "same")
    assert (first["created"], first["labels"], again["created"], again["updated"], again["labels"]) == (1, 1, 0, 1, 0)


def test_a_pairs_file_into_a_categorization_dataset_is_refused(tmp_path):
    DatasetFactory(name="catalog")
    path = tmp_path / "pairs.csv"
    path.write_text(PAIRS)
    with pytest.raises(CommandError, match="A pairs file goes into a product matching dataset"):
        import_pairs(path, "--dataset", "catalog")


def test_no_labels_imports_the_pairs_to_label_afresh_without_their_answers(tmp_path):
    dataset = MatchingDatasetFactory(name="offers")
    path = tmp_path / "pairs.csv"
    path.write_text(PAIRS)
    summary = import_pairs(path, "--dataset", "offers", "--no-labels")
    assert (summary["created"], summary["labels"], summary["rejected"]) == (3, 0, 0)
    assert not Annotation.objects.exists()
    assert Task.objects.filter(dataset=dataset, is_complete=False).count() == 3
    # The file's answers stay out of sight: not kept as a pair attribute an annotator could read.
    assert all("label" not in task.attributes for task in Task.objects.all())
