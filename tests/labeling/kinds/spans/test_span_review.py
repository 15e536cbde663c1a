"""A lead decides a span task: its distinct answers over the same tokens, a decision as spans by the page (htmx
and not, with or without the editor's script) and the API, refusals that keep the spans, and the history."""

import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from datasets.models import Role
from labeling.models import EventAction, LabelEvent, Review
from labeling.services import annotation_submit
from tests.factories import DatasetFactory, LabelFactory, TaskFactory, member
from tests.labeling.kinds.spans.span_set import span_dataset, span_task, type_id

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def disputed(db):
    """sku-1, "Sony WH-1000XM4 Wireless Headphones Black": ann1 marks Sony and Black, ann2 "Sony WH-1000XM4" as one
    brand; ann3 agrees with ann2 (overlap 3), so ann2's answer has two votes."""
    dataset = span_dataset(overlap=3)
    types = {code: type_id(dataset, code) for code in ("BRAND", "MODEL", "COLOR")}
    task = span_task(dataset, "sku-1")
    ann1, ann2, ann3 = (member(dataset, name) for name in ("ann1", "ann2", "ann3"))
    member(dataset, "lead", Role.LEAD)
    first = [[0, 0, types["BRAND"]], [4, 4, types["COLOR"]]]
    second = [[0, 1, types["BRAND"]]]
    annotation_submit(task=task, user=ann1, label=None, value=first)
    annotation_submit(task=task, user=ann2, label=None, value=second)
    annotation_submit(task=task, user=ann3, label=None, value=second)
    return {"dataset": dataset, "task": task, "types": types, "first": first, "second": second}


def lead(client, dataset):
    client.force_login(dataset.memberships.get(user__username="lead").user)
    return client


def page_url(dataset, **params) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return reverse("labeling:review", args=[dataset.pk]) + (f"?{query}" if query else "")


def decide_url(dataset, task) -> str:
    return reverse("labeling:review-decide", args=[dataset.pk, task.pk])


def test_the_page_shows_each_answer_once_over_the_tokens_most_voted_first(client, disputed):
    dataset, types = disputed["dataset"], disputed["types"]
    response = lead(client, dataset).get(page_url(dataset))
    assert response.status_code == 200
    rows = response.context["span_answers"]
    assert [(row["key"], row["votes"], row["who"], row["value"]) for row in rows] == [
        ("1", 2, ["ann2", "ann3"], disputed["second"]),
        ("2", 1, ["ann1"], disputed["first"]),
    ]
    assert rows[0]["text"] == "Sony WH-1000XM4 (BRAND)"
    assert rows[1]["text"] == "Sony (BRAND), Black (COLOR)"
    # Both rows hold every token; the words covered differently are marked in both.
    assert [t["text"] for t in rows[0]["tokens"]] == ["Sony", "WH-1000XM4", "Wireless", "Headphones", "Black"]
    assert [t["i"] for t in rows[1]["tokens"] if t["differs"]] == [0, 1, 4]
    assert (
        rows[1]["tokens"][4]["label"] == types["COLOR"]
        and rows[1]["tokens"][4]["name"] == "COLOR"
        and rows[1]["tokens"][4]["start"]
    )
    # The editor starts from the most voted answer.
    assert response.context["given_spans"] == [{"start": 0, "end": 1, "label_id": types["BRAND"]}]
    html = response.content.decode()
    assert 'id="span-answers"' in html and 'id="answer-spans"' in html and "js/span_editor.js" in html
    assert "3 words differ" in html


def test_the_models_spans_are_one_more_row_to_choose(client, disputed):
    dataset, task, types = disputed["dataset"], disputed["task"], disputed["types"]
    task.suggestions = [[1, 1, types["MODEL"], 0.9], [0, 0, types["BRAND"], 0.8], [2, 2, 999_999, 0.5]]
    task.save(update_fields=["suggestions"])
    rows = lead(client, dataset).get(page_url(dataset)).context["span_answers"]
    assert [(row["key"], row["kind"]) for row in rows] == [("1", "answer"), ("2", "answer"), ("3", "model")]
    assert rows[2]["value"] == [[0, 0, types["BRAND"]], [1, 1, types["MODEL"]]]
    assert rows[2]["text"] == "Sony (BRAND), WH-1000XM4 (MODEL)"


def test_deciding_by_the_page_stores_the_spans_and_says_them(client, disputed):
    dataset, task, types = disputed["dataset"], disputed["task"], disputed["types"]
    mended = [[0, 0, types["BRAND"]], [1, 1, types["MODEL"]], [4, 4, types["COLOR"]]]
    response = lead(client, dataset).post(decide_url(dataset, task), {"spans": json.dumps(mended), "note": "model"})
    assert response.status_code == 302 and response.url.endswith(f"?after={task.pk}")
    review = Review.objects.select_related("value").get(task=task)
    assert (review.label_id, review.value.value, review.note) == (None, mended, "model")
    shown = client.get(response.url).content.decode()
    assert (
        "Decided: Sony WH-1000XM4 Wireless Headphones Black has Sony (BRAND), WH-1000XM4 (MODEL), Black (COLOR)."
        in shown
    )
    event = LabelEvent.objects.get(task=task, action=EventAction.REVIEW)
    assert event.new_value_id == review.value_id


def test_deciding_by_htmx_brings_the_next_panel_with_the_decision(client, disputed):
    dataset, task = disputed["dataset"], disputed["task"]
    response = lead(client, dataset).post(decide_url(dataset, task), {"spans": "[]", "gold": "true"}, **HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="review-decided"' in html and "has <strong>no attribute</strong> (gold)" in html
    task.refresh_from_db()
    assert task.is_gold and task.gold_value.value == [] and not task.needs_review


def test_without_the_editor_the_chosen_answer_is_the_decision(client, disputed):
    dataset, task = disputed["dataset"], disputed["task"]
    response = lead(client, dataset).post(
        decide_url(dataset, task), {"spans": "", "answer": json.dumps(disputed["first"])}
    )
    assert response.status_code == 302
    assert Review.objects.get(task=task).value.value == disputed["first"]


@pytest.mark.parametrize("htmx", [True, False])
def test_refused_spans_come_back_with_the_page(client, disputed, htmx):
    dataset, task, types = disputed["dataset"], disputed["task"], disputed["types"]
    overlapping = [[0, 1, types["BRAND"]], [1, 1, types["MODEL"]]]
    response = lead(client, dataset).post(
        decide_url(dataset, task), {"spans": json.dumps(overlapping), "note": "kept"}, **(HX if htmx else {})
    )
    assert response.status_code == 400
    assert "overlap" in response.context["error"].lower()
    assert response.context["given_spans"] == [
        {"start": 0, "end": 1, "label_id": types["BRAND"]},
        {"start": 1, "end": 1, "label_id": types["MODEL"]},
    ]
    assert response.context["note"] == "kept"
    assert not Review.objects.filter(task=task).exists()


def test_no_spans_at_all_or_a_label_is_refused(client, disputed):
    dataset, task = disputed["dataset"], disputed["task"]
    lead(client, dataset)
    response = client.post(decide_url(dataset, task), {"label": disputed["types"]["BRAND"]}, **HX)
    assert response.status_code == 400
    assert response.context["error"] == "Choose one of the answers, or mark the spans, first."
    unknown = client.post(decide_url(dataset, task), {"spans": "[[0, 0, 999999]]"}, **HX)
    assert unknown.status_code == 400 and "Unknown span type" in unknown.context["error"]
    assert not Review.objects.filter(task=task).exists()


def test_the_history_shows_span_changes_in_words(client, disputed):
    dataset, task = disputed["dataset"], disputed["task"]
    lead(client, dataset).post(decide_url(dataset, task), {"spans": json.dumps(disputed["first"])})
    html = client.get(reverse("labeling:task-history", args=[dataset.pk, task.pk])).content.decode()
    assert "Sony WH-1000XM4 (BRAND)" in html and "Sony (BRAND), Black (COLOR)" in html
    assert "<strong>Sony (BRAND), Black (COLOR)</strong>, decided by lead" in html


# -- the API ---------------------------------------------------------------------------------------


def api_of(dataset, username: str = "lead") -> APIClient:
    api = APIClient()
    api.force_authenticate(dataset.memberships.get(user__username=username).user)
    return api


def decide(api: APIClient, task, **body):
    return api.post(reverse("api-task-review", args=[task.pk]), body, format="json")


def test_the_api_decides_spans_by_type_code_and_returns_them(disputed):
    dataset, task, types = disputed["dataset"], disputed["task"], disputed["types"]
    response = decide(api_of(dataset), task, spans=[[4, 4, "color"], [0, 0, "BRAND"]], note="by code")
    assert response.status_code == 200
    body = response.json()
    assert body["label"] is None and body["spans"] == [[0, 0, types["BRAND"]], [4, 4, types["COLOR"]]]
    assert (body["reviewer"], body["note"], body["gold"]) == ("lead", "by code", False)
    assert Review.objects.get(task=task).value.value == body["spans"]


def test_the_api_refuses_a_label_missing_or_bad_spans_for_a_span_task(disputed):
    dataset, task, types = disputed["dataset"], disputed["task"], disputed["types"]
    api = api_of(dataset)
    as_label = decide(api, task, label=types["BRAND"])
    assert as_label.status_code == 400 and "A span decision is `spans`" in as_label.json()["detail"]
    missing = decide(api, task, note="?")
    assert missing.status_code == 400 and "A span decision is `spans`" in missing.json()["detail"]
    outside = decide(api, task, spans=[[3, 9, types["BRAND"]]])
    assert outside.status_code == 400
    not_a_list = decide(api, task, spans="Sony")
    assert not_a_list.status_code == 400 and "not valid JSON" in not_a_list.json()["detail"]
    assert not Review.objects.filter(task=task).exists()


def test_the_api_of_a_label_kind_refuses_spans_and_says_null_spans(db):
    dataset = DatasetFactory(overlap=2)
    label = LabelFactory(dataset=dataset, name="A", path="Shop > A")
    task = TaskFactory(dataset=dataset)
    member(dataset, "lead", Role.LEAD)
    api = api_of(dataset)
    refused = decide(api, task, spans=[[0, 0, label.pk]])
    assert refused.status_code == 400 and "is a label, not spans" in refused.json()["detail"]
    decided = decide(api, task, label=label.pk)
    assert decided.status_code == 200 and decided.json()["spans"] is None
    assert decided.json()["label"] == {"id": label.pk, "path": "Shop > A"}
