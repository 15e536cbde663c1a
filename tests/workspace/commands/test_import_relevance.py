"""import_queries and import_judgments: a relevance dataset's files from the command line, run inline, with their
counts; a dataset of another kind refuses them."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from datasets.models import Query
from labeling.models import Annotation, Task
from tests.factories import DatasetFactory, ProductFactory, UserFactory
from workspace.services.datasets import dataset_create

pytestmark = pytest.mark.django_db


def call(command: str, path, *argv: str) -> dict:
    out = StringIO()
    call_command(command, str(path), *argv, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.fixture
def dataset():
    dataset = dataset_create(user=UserFactory(), name="search", task_type="relevance")
    for external_id in ("p1", "p2"):
        ProductFactory(dataset=dataset, external_id=external_id)
    return dataset


def test_queries_then_judgments_import_inline_and_report_their_counts(dataset, tmp_path):
    queries = tmp_path / "queries.jsonl"
    queries.write_text('{"query_id": "q1", "query": "desk lamp"}\n{"query_id": "q2", "query": ""}\n')
    summary = call("import_queries", queries, "--dataset", "search")
    assert (summary["status"], summary["created"], summary["rejected"]) == ("succeeded", 1, 1)
    judgments = tmp_path / "judgments.tsv"
    judgments.write_text("qid\tdocid\trel\nq1\tp1\tS\nq1\tp2\tI\nq1\tp3\tE\n")
    summary = call("import_judgments", judgments, "--dataset", "search", "--delimiter", "\t", "--label-source", "trec")
    assert (summary["created"], summary["labels"], summary["rejected"]) == (2, 2, 1)
    assert "4 lines read: 2 judgments created, 0 updated, 1 rows rejected" in summary["message"]
    assert list(Query.objects.filter(dataset=dataset).values_list("external_id", flat=True)) == ["q1"]
    assert Task.objects.filter(dataset=dataset, query__external_id="q1").count() == 2
    assert set(Annotation.objects.values_list("source_name", "label__code")) == {("trec", "S"), ("trec", "I")}


def test_importing_the_judgments_again_changes_nothing(dataset, tmp_path):
    judgments = tmp_path / "judgments.csv"
    judgments.write_text("query_id,query,product_id,grade\nq1,desk lamp,p1,E\n")
    first = call("import_judgments", judgments, "--dataset", "search")
    again = call("import_judgments", judgments, "--dataset", "search")
    assert (first["created"], first["labels"], again["created"], again["updated"], again["labels"]) == (1, 1, 0, 1, 0)
    assert Annotation.objects.count() == 1


@pytest.mark.parametrize("command", ["import_queries", "import_judgments"])
def test_a_categorization_dataset_refuses_them(command, tmp_path):
    DatasetFactory(name="catalog")
    path = tmp_path / "file.csv"
    path.write_text("query_id,query,product_id,grade\nq1,lamp,p1,E\n")
    with pytest.raises(CommandError, match="goes into a search relevance dataset; this one is product categorization"):
        call(command, path, "--dataset", "catalog")
