"""A dataset takes the files its task kind can use, and refuses the others whole, saying why."""

import pytest
from django.core.files.base import ContentFile

from config.errors import ApplicationError
from datasets.models import Label
from tests.factories import DatasetFactory, MatchingDatasetFactory, UserFactory
from workspace.models import ImportJob, ImportKind, ImportStatus
from workspace.services.datasets import dataset_create
from workspace.services.import_kinds import import_kinds_for
from workspace.services.imports import import_job_create, import_job_start

pytestmark = pytest.mark.django_db


def create(dataset, kind: str, content: bytes = b"id,title\nP1,Lamp\n", name: str = "file.csv", **kwargs):
    return import_job_create(dataset=dataset, user=None, kind=kind, file=ContentFile(content, name=name), **kwargs)


def test_a_categorization_dataset_takes_every_file_but_pairs_queries_and_judgments():
    assert import_kinds_for(dataset=DatasetFactory()) == [
        ImportKind.PRODUCTS, ImportKind.TAXONOMY, ImportKind.LABELSTUDIO, ImportKind.PRODIGY
    ]


def test_a_matching_dataset_takes_pairs_and_products():
    assert import_kinds_for(dataset=MatchingDatasetFactory()) == [ImportKind.PRODUCTS, ImportKind.PAIRS]


def test_a_pairs_file_into_a_categorization_dataset_is_refused():
    with pytest.raises(ApplicationError, match="goes into a product matching dataset; this one is product categ"):
        create(DatasetFactory(), ImportKind.PAIRS, b"left_id,right_id\nP1,P2\n")
    assert not ImportJob.objects.exists()


def test_a_taxonomy_into_a_dataset_with_fixed_labels_is_refused():
    dataset = MatchingDatasetFactory()
    with pytest.raises(ApplicationError, match="fixed labels \\('match' and 'no match'\\): it takes no taxonomy"):
        create(dataset, ImportKind.TAXONOMY, b"Shoes\nShoes > Boots\n", name="taxonomy.txt")
    assert Label.objects.filter(dataset=dataset).count() == 2


@pytest.mark.parametrize("kind", [ImportKind.LABELSTUDIO, ImportKind.PRODIGY])
def test_labeled_exports_of_single_products_into_a_matching_dataset_are_refused(kind):
    with pytest.raises(ApplicationError, match=r"labels products one by one.*Import a pairs file"):
        create(MatchingDatasetFactory(), kind, b'{"text": "Lamp", "label": "match"}\n', name="export.jsonl")


def test_creating_missing_labels_in_a_dataset_with_fixed_labels_is_refused():
    with pytest.raises(ApplicationError, match="creates no labels"):
        create(MatchingDatasetFactory(), ImportKind.PRODUCTS, options={"create_labels": True})


@pytest.mark.parametrize(
    "make, answers",
    [
        (MatchingDatasetFactory, "pairs"),
        (lambda: dataset_create(user=UserFactory(), name="Search", task_type="relevance"), "judgments"),
    ],
)
def test_a_product_file_with_labels_into_a_dataset_without_product_tasks_is_refused_at_creation_and_at_the_mapping(
    make, answers
):
    dataset = make()
    with pytest.raises(ApplicationError, match=f"products have no task of their own.*with a {answers} file"):
        create(dataset, ImportKind.PRODUCTS, b"id,title,label\nP1,Lamp,1\n", options={"label_column": "label"})
    draft = create(dataset, ImportKind.PRODUCTS, b"id,title,label\nP1,Lamp,1\n", start=False)
    with pytest.raises(ApplicationError, match="products have no task of their own"):
        import_job_start(job=draft, options={"mapping": {"external_id": "id"}, "label_column": "label"})
    draft.refresh_from_db()
    assert draft.status == ImportStatus.DRAFT
