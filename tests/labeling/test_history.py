"""A task's label history: every import, create, change, undo and review, oldest first, with who and old -> new."""

import re

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse

from datasets.models import Role
from labeling.imports import imported_answers_write
from labeling.models import EventAction, LabelEvent, LabelSource
from labeling.review import review_decide
from labeling.selectors import task_history
from labeling.services import annotation_submit, annotation_undo
from tests.factories import (
    DatasetFactory,
    LabelFactory,
    MatchingDatasetFactory,
    ProductFactory,
    TaskFactory,
    member,
    pair_task,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def story(db):
    """One product's whole life: imported as A, ann1 says B then C, ann2's flagged A undone, the lead decides C."""
    dataset = DatasetFactory(overlap=5)
    labels = {name: LabelFactory(dataset=dataset, name=name, path=f"Shop > {name}") for name in "ABC"}
    product = ProductFactory(dataset=dataset, title="Walnut desk lamp", brand="Lumen", external_id="SKU-7")
    task = TaskFactory(dataset=dataset, product=product)
    ann1, ann2, lead = member(dataset, "ann1"), member(dataset, "ann2"), member(dataset, "lead", Role.LEAD)
    imported_answers_write(dataset=dataset, answers={task.pk: labels["A"]}, source_name="legacy-feed")
    annotation_submit(task=task, user=ann1, label=labels["B"])
    annotation_submit(task=task, user=ann1, label=labels["C"])
    annotation_submit(task=task, user=ann2, label=labels["A"], flagged=True)
    annotation_undo(dataset=dataset, user=ann2)
    review_decide(task=task, reviewer=lead, label=labels["C"], note="the brand's site says desk lamp")
    return {"dataset": dataset, "task": task, "labels": labels, "ann1": ann1, "ann2": ann2, "lead": lead}


def page_url(story) -> str:
    return reverse("labeling:task-history", args=[story["dataset"].pk, story["task"].pk])


def rows(html: str) -> list[str]:
    """The history table's rows as text, cells joined by "|"."""
    table = html[html.index('id="history"') : html.index("</table>", html.index('id="history"'))]
    result = []
    for row in re.findall(r"<tr data-action.*?</tr>", table, re.S):
        cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        result.append("|".join(re.sub(r"\s+", " ", cell) for cell in cells[1:]))  # without the time
    return result


def test_the_selector_lists_every_event_oldest_first_in_one_query(story, django_assert_num_queries):
    with django_assert_num_queries(1):
        events = [
            (event.action, event.user.username if event.user else event.source_name,
             event.old_label.name if event.old_label else None, event.new_label.name if event.new_label else None)
            for event in task_history(task=story["task"])
        ]
    assert events == [
        (EventAction.IMPORT, "legacy-feed", None, "A"),
        (EventAction.CREATE, "ann1", None, "B"),
        (EventAction.CHANGE, "ann1", "B", "C"),
        (EventAction.CREATE, "ann2", None, "A"),
        (EventAction.UNDO, "ann2", "A", None),
        (EventAction.REVIEW, "lead", None, "C"),
    ]


def test_the_page_shows_the_timeline_with_who_and_old_to_new(story, client):
    client.force_login(story["lead"])
    html = client.get(page_url(story)).content.decode()
    assert rows(html) == [
        "legacy-feed|Import|— → Shop &gt; A|Import|",
        "ann1|Create|— → Shop &gt; B|Human|",
        "ann1|Change|Shop &gt; B → Shop &gt; C|Human|",
        "ann2|Create|— → Shop &gt; A|Human|flagged",
        "ann2|Undo|Shop &gt; A → —|Human|flagged",
        "lead|Review|— → Shop &gt; C|Review|",
    ]
    times = re.findall(r'<tr data-action="\w+">\s*<td><time datetime="([^"]+)"', html)
    assert len(times) == 6 and times == sorted(times)


def test_the_page_shows_the_product_its_answers_and_its_review(story, client):
    client.force_login(story["lead"])
    html = client.get(page_url(story)).content.decode()
    assert "Walnut desk lamp" in html and "SKU-7" in html and "Lumen" in html
    answers = html[html.index('id="answers"') : html.index("</section>", html.index('id="answers"'))]
    assert "legacy-feed" in answers and "ann1" in answers and "Shop &gt; C" in answers
    assert "ann2" not in answers  # undone
    review = html[html.index('id="review"') : html.index("</section>", html.index('id="review"'))]
    assert "<strong>Shop &gt; C</strong>, decided by lead" in review
    assert "the brand&#x27;s site says desk lamp" in review


def test_annotators_cannot_see_a_task_history(story, client):
    client.force_login(story["ann1"])
    response = client.get(page_url(story))
    assert response.status_code == 403 and "Annotators cannot see others&#x27; answers." in response.content.decode()


def test_outsiders_and_other_datasets_tasks_are_not_found(story, client):
    client.force_login(member(DatasetFactory(), "stranger", Role.LEAD))
    assert client.get(page_url(story)).status_code == 404
    client.force_login(story["lead"])
    other = TaskFactory()
    assert client.get(reverse("labeling:task-history", args=[story["dataset"].pk, other.pk])).status_code == 404


def test_a_review_event_records_its_source(story):
    review = LabelEvent.objects.get(task=story["task"], action=EventAction.REVIEW)
    assert (review.source, review.source_name, review.user) == (LabelSource.REVIEW, "lead", story["lead"])


# tests/labeling/test_annotation_services.py checks that UPDATE is refused everywhere; DELETE is refused on
# PostgreSQL only (SQLite's test flush empties tables with DELETE).
@pytest.mark.postgres
def test_postgres_refuses_to_delete_a_label_event(story, postgres):
    event = LabelEvent.objects.filter(task=story["task"]).first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LabelEvent.objects.filter(pk=event.pk).delete()
    assert LabelEvent.objects.filter(pk=event.pk).exists()



@pytest.fixture
def pair_story(db):
    """A pair: ann1 says match then no match, ann2 is unsure, the lead decides match."""
    dataset = MatchingDatasetFactory(overlap=3)
    labels = {label.name: label for label in dataset.labels.all()}
    left = ProductFactory(dataset=dataset, title="Acme phone 16GB black", external_id="L-1")
    right = ProductFactory(dataset=dataset, title="ACME phone 16 GB", external_id="R-2")
    task = pair_task(dataset, left, right, attributes={"split": "train"})
    ann1, ann2, lead = member(dataset, "ann1"), member(dataset, "ann2"), member(dataset, "lead", Role.LEAD)
    annotation_submit(task=task, user=ann1, label=labels["match"])
    annotation_submit(task=task, user=ann1, label=labels["no match"])
    annotation_submit(task=task, user=ann2, label=None, flagged=True)
    review_decide(task=task, reviewer=lead, label=labels["match"])
    return {"dataset": dataset, "task": task, "lead": lead}


def test_a_pair_history_shows_the_pair_side_by_side(pair_story, client):
    client.force_login(pair_story["lead"])
    html = client.get(page_url(pair_story)).content.decode()
    assert "<title>History · Acme phone 16GB black ↔ ACME phone 16 GB" in html
    assert 'id="pair"' in html and 'id="left-external-id">L-1<' in html and 'id="right-external-id">R-2<' in html
    assert 'id="product-title"' not in html  # the single-product facts are not shown for a pair
    facts = html[html.index('id="task-facts"') :]
    assert f"#{pair_story['task'].pk}" in facts and "<dt>split</dt><dd>train</dd>" in facts


def test_a_pair_history_shows_match_and_no_match(pair_story, client):
    client.force_login(pair_story["lead"])
    html = client.get(page_url(pair_story)).content.decode()
    assert rows(html) == [
        "ann1|Create|— → match|Human|",
        "ann1|Change|match → no match|Human|",
        "ann2|Create|— → —|Human|flagged",
        "lead|Review|— → match|Review|",
    ]
    review = html[html.index('id="review"') : html.index("</section>", html.index('id="review"'))]
    assert "<strong>match</strong>, decided by lead" in review
