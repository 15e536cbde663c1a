"""A relevance dataset takes products, queries and judgments; other kinds refuse queries and judgments, and a
relevance dataset the files it cannot use, each whole and with the reason."""

import pytest
from django.core.files.base import ContentFile

from config.errors import ApplicationError
from tests.factories import DatasetFactory, MatchingDatasetFactory, UserFactory
from workspace.models import ImportJob, ImportKind
from workspace.services.datasets import dataset_create
from workspace.services.import_kinds import import_kinds_for
from workspace.services.imports import import_job_create

pytestmark = pytest.mark.django_db

QUERIES = b"query_id,query\nq1,iphone 13\n"
JUDGMENTS = b"query_id,product_id,grade\nq1,P1,E\n"


def relevance_dataset():
    return dataset_create(user=UserFactory(), name="Search", task_type="relevance")


def create(dataset, kind: str, content: bytes = b"id,title\nP1,Lamp\n", name: str = "file.csv", **kwargs):
    return import_job_create(dataset=dataset, user=None, kind=kind, file=ContentFile(content, name=name), **kwargs)


def test_a_relevance_dataset_takes_products_queries_and_judgments():
    assert import_kinds_for(dataset=relevance_dataset()) == [
        ImportKind.PRODUCTS, ImportKind.QUERIES, ImportKind.JUDGMENTS
    ]


@pytest.mark.parametrize("kind, content", [(ImportKind.QUERIES, QUERIES), (ImportKind.JUDGMENTS, JUDGMENTS)])
def test_queries_and_judgments_into_another_kind_of_dataset_are_refused(kind, content):
    with pytest.raises(ApplicationError, match=f"A {kind} file goes into a search relevance dataset; this one is "
                                               "product categorization"):
        create(DatasetFactory(), kind, content)
    with pytest.raises(ApplicationError, match="this one is product matching"):
        create(MatchingDatasetFactory(), kind, content)
    assert not ImportJob.objects.exists()


def test_a_relevance_dataset_refuses_pairs_and_a_taxonomy():
    dataset = relevance_dataset()
    with pytest.raises(ApplicationError, match="A pairs file goes into a product matching dataset; this one is search"):
        create(dataset, ImportKind.PAIRS, b"left_id,right_id\nP1,P2\n")
    with pytest.raises(ApplicationError, match="fixed labels \\('exact', 'substitute', 'complement' and 'irrelevant'"):
        create(dataset, ImportKind.TAXONOMY, b"Shoes\n", name="taxonomy.txt")
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("kind", [ImportKind.LABELSTUDIO, ImportKind.PRODIGY])
def test_labeled_exports_of_single_products_into_a_relevance_dataset_are_refused_for_a_judgments_file(kind):
    with pytest.raises(ApplicationError, match=r"not single products\. Import a judgments file\."):
        create(relevance_dataset(), kind, b'{"text": "Lamp", "label": "E"}\n', name="export.jsonl")


@pytest.mark.parametrize("option", [{"mapping": {"text": "q"}}, {"label_column": "grade"}])
def test_queries_and_judgments_files_take_no_mapping_and_no_label_column(option):
    for kind, content in ((ImportKind.QUERIES, QUERIES), (ImportKind.JUDGMENTS, JUDGMENTS)):
        with pytest.raises(ApplicationError, match="read by its column names"):
            create(relevance_dataset(), kind, content, options=option)


def test_a_judgments_job_keeps_the_source_of_its_grades_and_a_queries_job_has_none():
    dataset = relevance_dataset()
    judgments = create(dataset, ImportKind.JUDGMENTS, JUDGMENTS, options={"label_source": "vendor"})
    assert (judgments.options, create(dataset, ImportKind.QUERIES, QUERIES).options) == (
        {"label_source": "vendor", "format": "csv"}, {"format": "csv"}
    )
