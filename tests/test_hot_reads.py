"""The hand-written reads of every annotator request (`dataset_get`, `task_get`): the same answers as the ORM's."""

import pytest
from django.http import Http404

from datasets.selectors import dataset_get
from labeling.selectors import task_get
from tests.factories import DatasetFactory, TaskFactory, UserFactory, member

pytestmark = pytest.mark.django_db


def test_they_read_the_row_the_orm_reads_with_the_users_role(catalog):
    lead = member(catalog, "lead", role="lead")
    dataset = dataset_get(user=lead, dataset_id=catalog.pk)
    assert (dataset.pk, dataset.name, dataset.created_at, dataset.user_role) == (
        catalog.pk, catalog.name, catalog.created_at, "lead"
    )
    task = catalog.tasks.first()
    read = task_get(user=lead, task_id=task.pk)
    assert (read.pk, read.product.title, read.dataset.pk, read.member_role) == (
        task.pk, task.product.title, catalog.pk, "lead"
    )
    assert read.random_key == task.random_key and read.is_gold is False  # SQLite's 0 is converted as the ORM does


def test_a_stranger_an_unknown_id_and_an_id_past_bigint_are_404s(catalog):
    stranger = UserFactory()
    task = TaskFactory(dataset=DatasetFactory())
    for dataset_id in (catalog.pk, 10**9, 2**63, -(2**70)):
        with pytest.raises(Http404):
            dataset_get(user=stranger, dataset_id=dataset_id)
    for task_id in (task.pk, 10**9, 2**64):
        with pytest.raises(Http404):
            task_get(user=stranger, task_id=task_id)


def test_the_api_token_authenticates_its_active_user_and_only_that(client):
    from rest_framework.authtoken.models import Token

    user = UserFactory()
    token = Token.objects.create(user=user)
    answered = client.get("/api/datasets/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert answered.status_code == 200
    assert answered.wsgi_request.user == user
    unknown = client.get("/api/datasets/", HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert unknown.status_code == 401 and "Invalid token" in unknown.json()["detail"]
    user.is_active = False
    user.save()
    inactive = client.get("/api/datasets/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert inactive.status_code == 401 and "inactive" in inactive.json()["detail"]


def test_the_token_read_gives_the_token_and_its_user_as_the_orm_does():
    from rest_framework.authtoken.models import Token

    from config.authentication import TokenAuthentication

    token = Token.objects.create(user=UserFactory(first_name="Ada"))
    user, read = TokenAuthentication().authenticate_credentials(token.key)
    assert (user.pk, user.first_name, user.password, user.date_joined) == (
        token.user.pk, "Ada", token.user.password, token.user.date_joined
    )
    assert (read.key, read.created, read.user is user) == (token.key, token.created, True)


def test_label_get_reads_the_datasets_label_as_the_orm_does_and_no_other(catalog):
    from config.errors import ApplicationError
    from datasets.models import Label
    from datasets.selectors import label_get

    label = Label.objects.filter(dataset=catalog).first()
    label.synonyms = ["cans", "headsets"]
    label.save()
    read = label_get(dataset=catalog, pk=label.pk)
    assert (read.pk, read.path, read.synonyms, read.updated_at, read.deprecated) == (
        label.pk, label.path, ["cans", "headsets"], label.updated_at, False
    )
    other = DatasetFactory()
    for dataset, pk in ((other, label.pk), (catalog, 10**9), (catalog, 2**63), (catalog, -(2**70))):
        with pytest.raises(ApplicationError, match="No such label"):
            label_get(dataset=dataset, pk=pk)


def test_labels_read_gives_the_datasets_labels_as_label_list_does(catalog):
    from datasets.selectors import label_list, labels_read
    from tests.factories import LabelFactory

    child = LabelFactory(dataset=catalog, name="Earbuds", path="Audio > Earbuds", code="EAR", synonyms=["buds"])
    LabelFactory(dataset=DatasetFactory(), name="Elsewhere", path="Elsewhere")

    def fields(labels):
        return [(lab.pk, lab.path, lab.code, lab.synonyms, lab.parent_id, lab.updated_at) for lab in labels]

    read = labels_read(dataset=catalog)
    assert fields(read) == fields(label_list(dataset=catalog)) and len(read) == 4
    assert child.pk in {label.pk for label in read}
    assert labels_read(dataset=DatasetFactory()) == []


def test_label_by_code_reads_the_datasets_label_with_that_code_as_the_orm_does(catalog):
    from datasets.models import Label
    from datasets.selectors import label_by_code
    from tests.factories import LabelFactory

    label = LabelFactory(dataset=catalog, name="Exact", path="Exact", code="E", synonyms=["same"])
    LabelFactory(dataset=DatasetFactory(), name="Other", path="Other", code="O")

    read = label_by_code(dataset=catalog, code="E")
    orm = Label.objects.filter(dataset=catalog, code="E").first()
    assert (read.pk, read.code, read.path, read.synonyms, read.updated_at) == (
        orm.pk, orm.code, orm.path, orm.synonyms, orm.updated_at
    ) and read.pk == label.pk
    assert label_by_code(dataset=catalog, code="O") is None
    assert label_by_code(dataset=catalog, code="missing") is None
