"""The review queue's selectors and the lead's review page, on answers written by the real services."""

import pytest
from django.db import connection
from django.urls import reverse

from datasets.models import Role
from labeling.models import EventAction, LabelEvent, LabelSource, Review
from labeling.review import review_decide
from labeling.selectors import review_context, review_queue, review_queue_count
from labeling.services import annotation_skip, annotation_submit
from tests.factories import DatasetFactory, LabelFactory, TaskFactory, member

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


@pytest.fixture
def disputed(db):
    """Overlap 3, labels A, B and C; ann1 and ann2 disagree on `split`, ann1 flags `flagged`, both agree on `agreed`."""
    dataset = DatasetFactory(overlap=3, name="Disputed shop")
    labels = {name: LabelFactory(dataset=dataset, name=name, path=f"Shop > {name}") for name in "ABC"}
    agreed, split, flagged = TaskFactory.create_batch(3, dataset=dataset)
    ann1, ann2 = member(dataset, "ann1"), member(dataset, "ann2")
    member(dataset, "lead", Role.LEAD)
    annotation_submit(task=split, user=ann1, label=labels["A"], active_seconds=4.5)
    annotation_submit(task=split, user=ann2, label=labels["B"], active_seconds=7.0)
    annotation_submit(task=flagged, user=ann1, label=None, flagged=True)
    annotation_skip(task=flagged, user=ann2)
    annotation_submit(task=agreed, user=ann1, label=labels["C"])
    annotation_submit(task=agreed, user=ann2, label=labels["C"])
    return {"dataset": dataset, "labels": labels, "split": split, "flagged": flagged, "agreed": agreed}


def login(client, dataset, username: str):
    client.force_login(dataset.memberships.get(user__username=username).user)
    return client


def page_url(dataset, **params) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return reverse("labeling:review", args=[dataset.pk]) + (f"?{query}" if query else "")


def decide_url(dataset, task) -> str:
    return reverse("labeling:review-decide", args=[dataset.pk, task.pk])


# -- selectors --------------------------------------------------------------------------------------


def test_the_queue_holds_disagreeing_and_flagged_tasks_in_id_order(disputed):
    queue = review_queue(dataset=disputed["dataset"])
    assert list(queue) == [disputed["split"], disputed["flagged"]]
    assert review_queue_count(dataset=disputed["dataset"]) == 2


def test_the_queue_reads_the_partial_index(disputed, postgres):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table would be scanned whatever the indexes
    assert "task_review_queue" in review_queue(dataset=disputed["dataset"]).explain()


def test_the_context_lists_every_answer_and_the_votes_most_first(disputed):
    labels = disputed["labels"]
    annotation_submit(task=disputed["split"], user=member(disputed["dataset"], "ann3"), label=labels["B"])
    context = review_context(task=disputed["split"])
    assert [(a.who, a.label.name, a.active_seconds) for a in context["answers"]] == [
        ("ann1", "A", 4.5),
        ("ann2", "B", 7.0),
        ("ann3", "B", None),
    ]
    assert [(vote["label"].name, vote["votes"]) for vote in context["votes"]] == [("B", 2), ("A", 1)]
    assert (context["review"], context["is_gold"], context["flagged"]) == (None, False, 0)


def test_the_context_shows_a_skip_a_flag_and_the_current_decision(disputed):
    dataset, flagged = disputed["dataset"], disputed["flagged"]
    review_decide(task=flagged, reviewer=dataset.memberships.get(role=Role.LEAD).user, label=disputed["labels"]["C"])
    context = review_context(task=flagged)
    assert [(a.who, a.status, a.flagged) for a in context["answers"]] == [
        ("ann1", "submitted", True),
        ("ann2", "skipped", False),
    ]
    assert context["votes"] == [] and context["flagged"] == 1
    assert context["review"].label == disputed["labels"]["C"]


def test_the_context_offers_the_model_suggestions_of_the_dataset(disputed):
    split, labels = disputed["split"], disputed["labels"]
    split.suggestions = [[labels["C"].pk, 0.7], [LabelFactory().pk, 0.2]]
    split.save(update_fields=["suggestions"])
    assert [(s["label"], s["probability"]) for s in review_context(task=split)["suggestions"]] == [(labels["C"], 0.7)]


# -- the page ---------------------------------------------------------------------------------------


def test_the_page_shows_the_first_waiting_task_its_answers_and_the_count(disputed, client):
    response = login(client, disputed["dataset"], "lead").get(page_url(disputed["dataset"]))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-task-id="{disputed["split"].pk}"' in html
    assert '<strong id="review-remaining">2</strong>' in html
    assert "ann1" in html and "ann2" in html and "4.5 s" in html
    for key, name in ((1, "A"), (2, "B")):
        assert f'value="{disputed["labels"][name].pk}" required data-key="{key}"' in html


def test_a_task_of_the_dataset_is_shown_on_request_even_once_decided(disputed, client):
    dataset, agreed = disputed["dataset"], disputed["agreed"]
    review_decide(task=agreed, reviewer=dataset.memberships.get(role=Role.LEAD).user, label=disputed["labels"]["A"])
    html = login(client, dataset, "lead").get(page_url(dataset, task=agreed.pk)).content.decode()
    assert f'data-task-id="{agreed.pk}"' in html and 'id="review-status"' in html


def test_a_task_of_another_dataset_is_not_found(disputed, client):
    other = TaskFactory()
    login(client, disputed["dataset"], "lead")
    assert client.get(page_url(disputed["dataset"], task=other.pk)).status_code == 404
    assert client.post(decide_url(disputed["dataset"], other), {"label": 1}).status_code == 404


def test_skip_for_now_shows_the_next_task_and_wraps_around(disputed, client):
    dataset = disputed["dataset"]
    login(client, dataset, "lead")
    after_split = client.get(page_url(dataset, after=disputed["split"].pk), headers=HX).content.decode()
    assert f'data-task-id="{disputed["flagged"].pk}"' in after_split and "<html" not in after_split
    after_last = client.get(page_url(dataset, after=disputed["flagged"].pk)).content.decode()
    assert f'data-task-id="{disputed["split"].pk}"' in after_last


def test_a_decision_without_htmx_redirects_to_the_next_task(disputed, client):
    dataset, split, label = disputed["dataset"], disputed["split"], disputed["labels"]["B"]
    login(client, dataset, "lead")
    response = client.post(decide_url(dataset, split), {"label": label.pk, "note": "brand site"})
    assert response.status_code == 302 and response["Location"] == page_url(dataset, after=split.pk)
    review = Review.objects.get(task=split)
    assert (review.label, review.note, review.reviewer.username) == (label, "brand site", "lead")


def test_a_decision_over_htmx_answers_with_the_next_task_partial(disputed, client):
    dataset, split = disputed["dataset"], disputed["split"]
    response = login(client, dataset, "lead").post(
        decide_url(dataset, split), {"label": disputed["labels"]["A"].pk}, headers=HX
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert f'data-task-id="{disputed["flagged"].pk}"' in html and 'id="review-decided"' in html
    assert '<strong id="review-remaining">1</strong>' in html


def test_a_decided_task_leaves_the_queue_and_is_in_the_history(disputed, client):
    dataset, split, label = disputed["dataset"], disputed["split"], disputed["labels"]["A"]
    login(client, dataset, "lead").post(decide_url(dataset, split), {"label": label.pk}, headers=HX)
    assert list(review_queue(dataset=dataset)) == [disputed["flagged"]]
    event = LabelEvent.objects.get(task=split, action=EventAction.REVIEW)
    assert (event.new_label, event.user.username, event.source) == (label, "lead", LabelSource.REVIEW)


def test_the_gold_checkbox_makes_the_task_gold(disputed, client):
    dataset, flagged, label = disputed["dataset"], disputed["flagged"], disputed["labels"]["C"]
    login(client, dataset, "lead").post(decide_url(dataset, flagged), {"label": label.pk, "gold": "true"}, headers=HX)
    flagged.refresh_from_db()
    assert (flagged.is_gold, flagged.gold_label, flagged.needs_review) == (True, label, False)


def test_the_last_decision_says_nothing_is_left(disputed, client):
    dataset = disputed["dataset"]
    login(client, dataset, "lead")
    for task in (disputed["split"], disputed["flagged"]):
        response = client.post(decide_url(dataset, task), {"label": disputed["labels"]["A"].pk}, headers=HX)
    assert "Nothing to review" in response.content.decode()
    assert "Nothing to review" in client.get(page_url(dataset)).content.decode()


def test_a_decision_without_a_label_is_refused_on_the_same_task(disputed, client):
    dataset, split = disputed["dataset"], disputed["split"]
    response = login(client, dataset, "lead").post(decide_url(dataset, split), {"note": "kept"}, headers=HX)
    html = response.content.decode()
    assert response.status_code == 400 and "Choose the final label first." in html
    assert f'data-task-id="{split.pk}"' in html and 'value="kept"' in html
    assert not Review.objects.exists()


def test_a_label_of_another_dataset_is_refused_with_the_service_message(disputed, client):
    dataset, split = disputed["dataset"], disputed["split"]
    login(client, dataset, "lead")
    foreign = LabelFactory(dataset=DatasetFactory())
    response = client.post(decide_url(dataset, split), {"label": foreign.pk}, headers=HX)
    assert response.status_code == 400 and "another dataset" in response.content.decode()
    redirected = client.post(decide_url(dataset, split), {"label": foreign.pk}, follow=True)
    assert redirected.redirect_chain[-1][0] == page_url(dataset, task=split.pk)
    assert "another dataset" in redirected.content.decode()
    assert not Review.objects.exists()


def test_an_annotator_is_forbidden(disputed, client):
    dataset = disputed["dataset"]
    login(client, dataset, "ann1")
    assert client.get(page_url(dataset)).status_code == 403
    assert client.post(decide_url(dataset, disputed["split"]), {"label": disputed["labels"]["A"].pk}).status_code == 403
    assert not Review.objects.exists()


def test_an_outsider_finds_nothing(disputed, client):
    dataset = disputed["dataset"]
    member(DatasetFactory(), "stranger", Role.LEAD)
    client.force_login(dataset.memberships.model.objects.get(user__username="stranger").user)
    assert client.get(page_url(dataset)).status_code == 404
    assert client.post(decide_url(dataset, disputed["split"]), {"label": disputed["labels"]["A"].pk}).status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(disputed, client):
    response = client.get(page_url(disputed["dataset"]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.post(decide_url(disputed["dataset"], disputed["split"]), {"label": 1}).status_code == 302


def test_the_dataset_page_links_a_lead_to_the_review_with_its_count(disputed, client):
    dataset = disputed["dataset"]
    html = login(client, dataset, "lead").get(reverse("workspace:detail", args=[dataset.pk])).content.decode()
    assert f'href="{page_url(dataset)}">Review (2)</a>' in html
    client.logout()
    html = login(client, dataset, "ann1").get(reverse("workspace:detail", args=[dataset.pk])).content.decode()
    assert "Review (" not in html


def test_the_page_links_the_task_history(disputed, client):
    dataset, split = disputed["dataset"], disputed["split"]
    html = login(client, dataset, "lead").get(page_url(dataset)).content.decode()
    assert f'href="{reverse("labeling:task-history", args=[dataset.pk, split.pk])}"' in html
