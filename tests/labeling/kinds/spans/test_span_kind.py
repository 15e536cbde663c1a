"""An attribute span dataset: its span types, a task per product with the spans its own values suggest, and
answers that are spans, stored once per distinct value and resolved like labels."""

import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from config.errors import ApplicationError
from datasets.importers import ProductRow
from datasets.models import Label
from labeling.answer_values import answer_value_intern
from labeling.gold import gold_demote, gold_promote_imported, gold_sources
from labeling.kinds import kind_get
from labeling.kinds.spans.page import page_context
from labeling.label_stats import labeling_rate, labels_since_count
from labeling.models import Annotation, AnswerValue, EventAction, LabelEvent, LabelSource, Task
from labeling.resolve import LabelPolicy, resolved_labels
from labeling.review import review_decide
from labeling.services import annotation_submit, annotation_undo
from tests.factories import UserFactory, member
from tests.labeling.kinds.spans.span_set import span_dataset, span_task, type_id
from workspace.services.datasets import dataset_create

pytestmark = pytest.mark.django_db


def test_a_span_dataset_has_the_common_attribute_types_on_keys_1_to_8():
    dataset = span_dataset()
    codes = list(dataset.labels.order_by("pk").values_list("code", flat=True))
    assert codes == ["BRAND", "MODEL", "COLOR", "SIZE", "CAPACITY", "MATERIAL", "QUANTITY", "GENDER"]
    assert dataset.grade_scale == ""


def test_the_lead_names_the_span_types_in_key_order():
    dataset = span_dataset(span_types=["COLOR", "BRAND", "pack-size"])
    assert list(dataset.labels.order_by("pk").values_list("code", flat=True)) == ["COLOR", "BRAND", "pack-size"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"span_types": ["BRAND", "brand"]}, "given twice"),
        ({"span_types": [f"T{i}" for i in range(10)]}, "1 to 9 span types"),
        ({"span_types": ["9LIVES"]}, "is not a name"),
        ({"span_types": []}, "1 to 9 span types"),
        ({"grade_scale": "esci"}, "no grade scale"),
    ],
)
def test_span_types_a_page_could_not_key_are_refused(settings, message):
    with pytest.raises(ApplicationError, match=message):
        dataset_create(user=UserFactory(), name="Bad", task_type="spans", **settings)


def test_another_kind_refuses_span_types():
    with pytest.raises(ApplicationError, match="no span types"):
        dataset_create(user=UserFactory(), name="Cats", task_type="categorization", span_types=["BRAND"])


def test_each_product_is_a_task_suggesting_the_spans_of_its_own_values():
    dataset = span_dataset()
    assert Task.objects.filter(dataset=dataset).count() == 3
    sony = span_task(dataset, "sku-1")
    brand, color = type_id(dataset, "BRAND"), type_id(dataset, "COLOR")
    last = len(page_context(dataset=dataset, task=sony, user=UserFactory())["tokens"]) - 1
    # "Sony WH-1000XM4 Wireless Headphones Black": Sony is the first token, Black the last.
    assert sony.suggestions == [[0, 0, brand, None], [last, last, color, None]]
    assert span_task(dataset, "sku-3").suggestions == [[0, 0, brand, None]]  # "steel" is not in the title


@pytest.fixture
def api(db):
    dataset = span_dataset()
    user = member(dataset, "marker")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return dataset, user, client


def test_the_api_serves_the_tokens_and_suggested_spans_and_takes_spans(api):
    dataset, user, client = api
    task = client.post(reverse("api-task-next", args=[dataset.pk])).json()
    assert task["kind"] == "spans" and task["tokens"][0] == {"i": 0, "text": task["tokens"][0]["text"], "ws": True}
    assert task["span_suggestions"] and task["suggestions"] == []
    brand = type_id(dataset, "BRAND")

    response = client.post(
        reverse("api-task-submit", args=[task["id"]]),
        {"spans": [{"token_start": 0, "token_end": 0, "label": "brand"}]},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["spans"] == [[0, 0, brand]] and response.json()["label"] is None
    assert Annotation.objects.get(user=user).value.value == [[0, 0, brand]]


def test_next_suggests_only_spans_of_the_datasets_types_as_they_are_now(api):
    dataset, _user, client = api
    Task.objects.filter(dataset=dataset).update(suggestions=[[0, 0, type_id(dataset, "BRAND"), None]])
    Label.objects.filter(dataset=dataset, code="BRAND").delete()  # a type gone since the model suggested it
    task = client.post(reverse("api-task-next", args=[dataset.pk])).json()  # PostgreSQL: types read by the claim
    assert task["tokens"] and task["span_suggestions"] == []


@pytest.mark.parametrize(
    ("spans", "message"),
    [
        ([[0, 1, "BRAND"], [1, 2, "MODEL"]], "overlap: a word has one type at most"),
        ([[0, 0, "PRICE"]], "Unknown span type 'PRICE'"),
        ([[0, 99, "BRAND"]], "are not in the text"),
        ([[0, "x", "BRAND"]], "token numbers"),
        ("not json", "not valid JSON"),
        ({"spans": 1}, "a list of"),
        ([[0, 0]], r"\[token_start, token_end, type\]"),
    ],
)
def test_spans_that_cannot_be_are_refused_with_why_and_nothing_is_written(api, spans, message):
    dataset, user, client = api
    task = client.post(reverse("api-task-next", args=[dataset.pk])).json()
    response = client.post(reverse("api-task-submit", args=[task["id"]]), {"spans": spans}, format="json")
    assert response.status_code == 400
    assert message.replace("\\", "") in str(response.json()) or pytest.fail(str(response.json()))
    assert not Annotation.objects.filter(user=user).exists() and not AnswerValue.objects.exists()


def test_a_span_answer_is_neither_a_label_nor_missing(api):
    dataset, _user, client = api
    task = client.post(reverse("api-task-next", args=[dataset.pk])).json()
    url = reverse("api-task-submit", args=[task["id"]])
    label = dataset.labels.first().pk
    assert "list of spans, not a label" in str(client.post(url, {"label": label}, format="json").json())
    assert "Mark the spans" in str(client.post(url, {}, format="json").json())
    assert client.post(url, {"spans": [], "flagged": True}, format="json").status_code == 201
    assert client.post(url, {"flagged": True}, format="json").json()["spans"] is None


def test_another_kind_refuses_spans(catalog):
    user = member(catalog, "cat")
    client = APIClient()
    client.force_authenticate(user)
    task = client.post(reverse("api-task-next", args=[catalog.pk])).json()
    response = client.post(reverse("api-task-submit", args=[task["id"]]), {"spans": []}, format="json")
    assert response.status_code == 400 and "is a label, not spans" in str(response.json())


def test_equal_answers_share_one_value_and_resolve_like_labels():
    dataset = span_dataset(overlap=3)
    task = span_task(dataset, "sku-2")
    brand, color = type_id(dataset, "BRAND"), type_id(dataset, "COLOR")
    same, other = [[0, 0, brand], [5, 5, color]], [[0, 0, brand]]  # "Apple" and "Blue"
    for name, spans in (("a", same), ("b", list(reversed(same))), ("c", other)):
        value = kind_get("spans").value_clean(dataset=dataset, task=task, raw=spans, flagged=False).value
        annotation_submit(task=task, user=member(dataset, name), label=None, value=value)

    values = Annotation.objects.filter(task=task).values_list("value_id", flat=True)
    assert len(set(values)) == 2 and AnswerValue.objects.filter(task=task).count() == 2
    resolved = dict(resolved_labels(dataset=dataset, policy=LabelPolicy.MAJORITY, answer="value"))
    assert AnswerValue.objects.get(pk=resolved[task.pk]).value == same
    assert dict(resolved_labels(dataset=dataset, policy=LabelPolicy.FINAL, answer="value")) == {}


def test_history_keeps_both_values_and_undo_gives_the_spans_back_to_mend():
    dataset = span_dataset()
    task = span_task(dataset, "sku-1")
    user = member(dataset, "marker")
    brand = type_id(dataset, "BRAND")
    annotation_submit(task=task, user=user, label=None, value=[[0, 0, brand]])
    annotation_submit(task=task, user=user, label=None, value=[[0, 1, brand]])
    change = LabelEvent.objects.get(task=task, action=EventAction.CHANGE)
    assert (change.old_value.value, change.new_value.value) == ([[0, 0, brand]], [[0, 1, brand]])

    annotation_undo(dataset=dataset, user=user)

    assert page_context(dataset=dataset, task=task, user=user)["given_spans"] == [
        {"start": 0, "end": 1, "label_id": brand}
    ]
    assert page_context(dataset=dataset, task=task, user=member(dataset, "other"))["given_spans"] == []


def test_a_refused_answer_comes_back_with_the_marks_it_had(client):
    dataset = span_dataset()
    user = member(dataset, "marker")
    client.force_login(user)
    client.get(reverse("labeling:annotate", args=[dataset.pk]))
    task = Task.objects.get(dataset=dataset, leases__user=user)
    brand = type_id(dataset, "BRAND")
    posted = [[0, 1, brand], [1, 2, brand]]

    response = client.post(
        reverse("labeling:submit", args=[task.pk]), {"spans": json.dumps(posted)}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "overlap" in page and f'data-task-id="{task.pk}"' in page
    given = json.loads(page.split('id="span-given-data" type="application/json">')[1].split("</script>")[0])
    assert given == [{"start": s, "end": e, "label_id": label} for s, e, label in posted]
    assert not Annotation.objects.filter(user=user).exists()


def test_different_spans_wait_for_review_and_the_decision_is_a_value_that_resolves():
    dataset = span_dataset(overlap=2)
    task = span_task(dataset, "sku-1")
    brand, model = type_id(dataset, "BRAND"), type_id(dataset, "MODEL")
    annotation_submit(task=task, user=member(dataset, "a"), label=None, value=[[0, 0, brand]])
    task.refresh_from_db()
    assert not task.needs_review  # one answer cannot disagree
    annotation_submit(task=task, user=member(dataset, "b"), label=None, value=[[0, 0, brand], [1, 1, model]])
    task.refresh_from_db()
    assert task.needs_review
    lead = member(dataset, "lead", role="lead")

    review_decide(task=task, reviewer=lead, label=None, value=[[0, 0, brand], [1, 1, model]], gold=True)

    task.refresh_from_db()
    assert not task.needs_review and task.gold_value.value == [[0, 0, brand], [1, 1, model]]
    resolved = dict(resolved_labels(dataset=dataset, policy=LabelPolicy.FINAL, answer="value"))
    assert AnswerValue.objects.get(pk=resolved[task.pk]).value == [[0, 0, brand], [1, 1, model]]
    event = LabelEvent.objects.get(task=task, action=EventAction.REVIEW)
    assert event.new_value == task.gold_value and event.new_label is None
    with pytest.raises(ApplicationError, match="one of them"):
        review_decide(task=task, reviewer=lead, label=None)


def test_a_span_dataset_is_made_from_the_page_the_api_and_the_command(client):
    lead = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(lead)
    settings = {"overlap": 1, "gold_fraction": 0, "gold_warmup": 3, "random_fraction": 0.1, "lease_minutes": 10,
                "uncertainty_strategy": "margin", "retrain_every": 50, "cold_start_examples": 3,
                "suggestion_hide_fraction": 0}
    response = client.post(
        reverse("workspace:create"),
        {"name": "Page spans", "task_type": "spans", "span_types": "COLOR, BRAND", **settings},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    api = APIClient()
    api.force_authenticate(lead)
    made = api.post(
        reverse("api-dataset-list"), {"name": "Api spans", "task_type": "spans", "span_types": ["SIZE"]}, format="json"
    )
    assert made.status_code == 201, made.json()
    refused = api.post(reverse("api-dataset-list"), {"name": "Bad", "task_type": "spans", "span_types": ["A", "a"]},
                       format="json")
    assert refused.status_code == 400 and "given twice" in str(refused.json())
    call_command("create_dataset", "Command spans", "--kind", "spans", "--span-types", "GENDER,SIZE",
                 "--lead", lead.username, stdout=io.StringIO())
    codes = {
        name: list(Label.objects.filter(dataset__name=name).order_by("pk").values_list("code", flat=True))
        for name in ("Page spans", "Api spans", "Command spans")
    }
    assert codes == {"Page spans": ["COLOR", "BRAND"], "Api spans": ["SIZE"], "Command spans": ["GENDER", "SIZE"]}


def test_a_dataset_marking_descriptions_tokenizes_title_and_description_and_suggests_in_both():
    dataset = dataset_create(user=UserFactory(), name="Long", task_type="spans", span_description=True)
    kind_get("spans").products_write(dataset=dataset, rows=[
        ProductRow(line=1, external_id="d-1", title="Trail Runner 2", description="<p>Colour: <b>Red</b></p>",
                   attributes={"color": "Red"}),
    ])
    task = span_task(dataset, "d-1")
    tokens = [token["text"] for token in page_context(dataset=dataset, task=task, user=UserFactory())["tokens"]]
    assert tokens == ["Trail", "Runner", "2", "\n", "Colour", ":", "Red"]
    assert task.suggestions == [[6, 6, type_id(dataset, "COLOR"), None]]
    answer = kind_get("spans").value_clean(dataset=dataset, task=task, raw=[[6, 6, "COLOR"]], flagged=False)
    assert answer.value == [[6, 6, type_id(dataset, "COLOR")]]
    with pytest.raises(ApplicationError, match="only attribute span datasets mark descriptions"):
        dataset_create(user=UserFactory(), name="Cats", span_description=True)


def test_imported_spans_of_a_trusted_source_become_gold_values():
    dataset = span_dataset()
    task = span_task(dataset, "sku-1")
    value = answer_value_intern(task=task, value=[[0, 0, type_id(dataset, "BRAND")]])
    Annotation.objects.create(dataset=dataset, task=task, value=value, source=LabelSource.IMPORT, source_name="v1")
    assert gold_sources(dataset=dataset) == [{"source": "v1", "tasks": 1}]

    assert gold_promote_imported(dataset=dataset, source="v1") == 1
    task.refresh_from_db()
    assert (task.is_gold, task.gold_value_id, task.gold_label_id) == (True, value.pk, None)
    gold_demote(dataset=dataset, task_ids=[task.pk])
    task.refresh_from_db()
    assert (task.is_gold, task.gold_value_id) == (False, None)


def test_span_answers_count_toward_retraining_and_the_labeling_rate():
    dataset = span_dataset()
    user = member(dataset, "marker")
    for sku in ("sku-1", "sku-2"):
        annotation_submit(task=span_task(dataset, sku), user=user, label=None, value=[])
    assert labels_since_count(dataset=dataset, after_id=0, limit=10) == 2
    assert labeling_rate(dataset=dataset) == 2.0  # two answers within the minimum hour
