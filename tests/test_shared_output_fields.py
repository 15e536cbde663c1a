"""config.serializer_fields.SharedOutputFields: the annotator's payloads written with shared fields are what
DRF's own `Serializer.to_representation` writes, for every kind."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework import serializers

from config.serializer_fields import SharedOutputFields
from labeling.apis.tasks import AnnotationOutputSerializer, TaskOutputSerializer
from labeling.kinds.relevance.candidates import relevance_candidates
from labeling.models import Annotation, Task
from labeling.services import annotation_submit
from tests.factories import MatchingDatasetFactory, ProductFactory, member, pair_task
from tests.labeling.kinds.spans.span_set import span_dataset, span_task, type_id
from workspace.services.datasets import dataset_create

pytestmark = pytest.mark.django_db


def drf_written(monkeypatch, serializer_class: type, instance: object) -> dict:
    """What DRF's own loop writes, building each serializer's fields (the reference, not a stand-in)."""
    with monkeypatch.context() as patched:
        patched.setattr(SharedOutputFields, "to_representation", serializers.Serializer.to_representation)
        return serializer_class(instance).data


def assert_written_as_drf_writes(monkeypatch, serializer_class: type, instance: object) -> dict:
    written = serializer_class(instance).data
    assert written == drf_written(monkeypatch, serializer_class, instance)
    assert serializer_class(instance).data == written  # the second instance of the class reads the shared fields
    return written


def test_a_categorization_task_with_suggestions(monkeypatch, catalog):
    task = catalog.tasks.select_related("dataset", "product").first()
    audio, phones = catalog.labels.order_by("pk")[:2]
    task.suggestions = [[audio.pk, 0.75], [phones.pk, 0.25]]
    task.product.attributes = {"merchant": "Shop", "price_band": [1, 2]}
    written = assert_written_as_drf_writes(monkeypatch, TaskOutputSerializer, task)
    assert [suggestion["label"] for suggestion in written["suggestions"]] == [audio.pk, phones.pk]
    assert written["product"]["attributes"] == {"merchant": "Shop", "price_band": [1, 2]}


def test_a_matching_pair(monkeypatch):
    dataset = MatchingDatasetFactory()
    left, right = ProductFactory(dataset=dataset, price="12.50"), ProductFactory(dataset=dataset, price=None)
    task = Task.objects.select_related("dataset", "product", "other_product").get(
        pk=pair_task(dataset, left, right).pk
    )
    written = assert_written_as_drf_writes(monkeypatch, TaskOutputSerializer, task)
    assert [item["role"] for item in written["items"]] == ["left", "right"] and written["product"] is None


def test_a_relevance_task_with_its_query(monkeypatch):
    lead = member(MatchingDatasetFactory(), "someone", role="lead")
    dataset = dataset_create(user=lead, name="Search", task_type="relevance")
    ProductFactory(dataset=dataset, external_id="iphone", title="Apple iPhone 13 128GB")
    dataset.queries.create(external_id="q1", text="iphone 13")
    relevance_candidates(dataset=dataset, pool=1)
    task = Task.objects.select_related("dataset", "product", "query").get(dataset=dataset)
    written = assert_written_as_drf_writes(monkeypatch, TaskOutputSerializer, task)
    assert written["query"]["text"] == "iphone 13"


def test_a_span_task_and_its_answer(monkeypatch):
    dataset = span_dataset()
    task = span_task(dataset, "sku-1")
    written = assert_written_as_drf_writes(monkeypatch, TaskOutputSerializer, task)
    assert written["tokens"] and written["span_suggestions"]
    user = member(dataset, "marker")
    annotation_submit(task=task, user=user, label=None, value=[[0, 0, type_id(dataset, "BRAND")]])
    answer = Annotation.objects.select_related("value").get(task=task, user=user)
    assert assert_written_as_drf_writes(monkeypatch, AnnotationOutputSerializer, answer)["spans"]


def test_a_label_answer(monkeypatch, catalog):
    user = member(catalog, "ann")
    task = catalog.tasks.first()
    annotation_submit(task=task, user=user, label=catalog.labels.first(), active_seconds=1.5)
    answer = Annotation.objects.get(task=task, user=user)
    assert assert_written_as_drf_writes(monkeypatch, AnnotationOutputSerializer, answer)["spans"] is None


class _Linked(SharedOutputFields, serializers.Serializer):
    link = serializers.HyperlinkedIdentityField(view_name="api-task-next")


class _Inner(serializers.Serializer):
    computed = serializers.SerializerMethodField()

    def get_computed(self, value: object) -> int:
        return 1


class _NestedMethod(SharedOutputFields, serializers.Serializer):
    inner = _Inner(source="*")


@pytest.mark.parametrize("serializer_class", [_Linked, _NestedMethod])
def test_fields_that_would_read_a_shared_context_are_refused(serializer_class):
    with pytest.raises(ImproperlyConfigured):
        serializer_class(object()).data  # noqa: B018 - the representation is what is refused
