"""The list mode's page and API: a query with its products, confirmed whole, skipped, undone."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from labeling.models import Annotation, AnnotationStatus, Task
from tests.factories import LabelFactory, TaskFactory, member
from tests.labeling.kinds.relevance.judging import search_dataset

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


@pytest.fixture
def judge(client):
    dataset = search_dataset(queries=2)
    user = member(dataset, "judge")
    client.force_login(user)
    return dataset, user


def shown_tasks(html):
    return [int(part.split('"')[0]) for part in html.split('name="task" value="')[1:]]


def grades_for(dataset, tasks, code="E", skip=()):
    label = dataset.labels.get(code=code)
    body = {"task": tasks, "active_seconds": "30"}
    body |= {f"grade-{task}": label.pk for task in tasks if task not in skip}
    return body


def test_the_list_shows_one_query_with_its_ten_products_and_links_the_single_mode(client, judge):
    dataset, _ = judge
    html = client.get(reverse("labeling:judge-list", args=[dataset.pk])).content.decode()
    tasks = Task.objects.filter(pk__in=shown_tasks(html)).select_related("query", "product")
    assert len(tasks) == 10 and len({task.query_id for task in tasks}) == 1
    assert f"“{tasks[0].query.text}”" in html and all(task.product.title in html for task in tasks)
    assert html.count('type="radio"') == 40 and 'data-key="4"' in html
    assert reverse("labeling:annotate", args=[dataset.pk]) in html
    single = client.get(reverse("labeling:annotate", args=[dataset.pk])).content.decode()
    assert reverse("labeling:judge-list", args=[dataset.pk]) in single


def test_confirming_the_query_stores_every_grade_and_shows_the_next_query(client, judge):
    dataset, user = judge
    first = shown_tasks(client.get(reverse("labeling:judge-list", args=[dataset.pk])).content.decode())
    confirm = reverse("labeling:judge-list-confirm", args=[dataset.pk])
    after = client.post(confirm, grades_for(dataset, first), headers=HX)
    assert after.status_code == 200
    answers = Annotation.objects.filter(user=user)
    assert sorted(a.task_id for a in answers) == sorted(first)
    assert {(a.label.code, a.active_seconds) for a in answers} == {("E", 3.0)}
    second = shown_tasks(after.content.decode())
    assert len(second) == 10 and not set(second) & set(first)


def test_an_ungraded_product_refuses_the_query_and_keeps_the_grades_given(client, judge):
    dataset, user = judge
    tasks = shown_tasks(client.get(reverse("labeling:judge-list", args=[dataset.pk])).content.decode())
    body = grades_for(dataset, tasks, skip=tasks[-2:])
    refused = client.post(reverse("labeling:judge-list-confirm", args=[dataset.pk]), body, headers=HX)
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "2 of the 10 answers have neither a label nor a flag" in html
    assert html.count("checked") == 8 and shown_tasks(html) == tasks
    assert not Annotation.objects.filter(user=user).exists()

    body[f"flag-{tasks[-1]}"] = body[f"flag-{tasks[-2]}"] = "true"
    assert client.post(reverse("labeling:judge-list-confirm", args=[dataset.pk]), body, headers=HX).status_code == 200
    assert Annotation.objects.filter(user=user, flagged=True, label=None).count() == 2


def test_a_grade_off_the_scale_refuses_the_whole_query(client, judge):
    dataset, user = judge
    tasks = shown_tasks(client.get(reverse("labeling:judge-list", args=[dataset.pk])).content.decode())
    body = grades_for(dataset, tasks)
    body[f"grade-{tasks[3]}"] = LabelFactory(dataset=dataset, name="meh", path="meh", code="M").pk
    refused = client.post(reverse("labeling:judge-list-confirm", args=[dataset.pk]), body, headers=HX)
    assert refused.status_code == 400 and "not a grade of the ESCI scale" in refused.content.decode()
    assert not Annotation.objects.filter(user=user).exists()


def test_skip_passes_the_query_and_undo_brings_the_confirmed_one_back(client, judge):
    dataset, user = judge
    first = shown_tasks(client.get(reverse("labeling:judge-list", args=[dataset.pk])).content.decode())
    after = client.post(reverse("labeling:judge-list-skip", args=[dataset.pk]), {"task": first}, headers=HX)
    assert Annotation.objects.filter(user=user, status=AnnotationStatus.SKIPPED).count() == 10
    second = shown_tasks(after.content.decode())
    client.post(reverse("labeling:judge-list-confirm", args=[dataset.pk]), grades_for(dataset, second), headers=HX)
    back = client.post(reverse("labeling:judge-list-undo", args=[dataset.pk]), headers=HX)
    assert sorted(shown_tasks(back.content.decode())) == sorted(second)
    assert not Annotation.objects.filter(user=user, status=AnnotationStatus.SUBMITTED).exists()


def test_without_htmx_the_forms_redirect_to_the_list(client, judge):
    dataset, _ = judge
    tasks = shown_tasks(client.get(reverse("labeling:judge-list", args=[dataset.pk])).content.decode())
    response = client.post(reverse("labeling:judge-list-confirm", args=[dataset.pk]), grades_for(dataset, tasks))
    assert response.status_code == 302 and response.url == reverse("labeling:judge-list", args=[dataset.pk])


def test_a_dataset_without_queries_has_no_list_page(client):
    dataset = TaskFactory().dataset
    client.force_login(member(dataset, "ann"))
    assert client.get(reverse("labeling:judge-list", args=[dataset.pk])).status_code == 404


def test_another_datasets_task_is_a_404(client, judge):
    dataset, _ = judge
    foreign = Task.objects.filter(dataset=search_dataset(name="Other", queries=1)).first()
    body = {"task": [foreign.pk], f"grade-{foreign.pk}": dataset.labels.get(code="E").pk}
    assert client.post(reverse("labeling:judge-list-confirm", args=[dataset.pk]), body).status_code == 404


@pytest.fixture
def api(judge):
    _dataset, user = judge
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_the_api_leases_a_query_and_takes_its_grades_by_value(api, judge):
    dataset, user = judge
    leased = api.post(reverse("api-query-next", args=[dataset.pk])).json()
    assert leased["query"]["text"] and len(leased["tasks"]) == 10
    assert {task["product"]["title"].split(" ", 1)[1] for task in leased["tasks"]} == {leased["query"]["text"]}
    answers = [{"task": task["id"], "answer": "E" if i < 5 else "irrelevant"} for i, task in enumerate(leased["tasks"])]
    response = api.post(reverse("api-query-submit", args=[dataset.pk]), {"answers": answers, "active_seconds": 10},
                        format="json")
    assert response.status_code == 201 and len(response.json()) == 10
    assert sorted(Annotation.objects.filter(user=user).values_list("label__code", flat=True)) == ["E"] * 5 + ["I"] * 5


def test_the_api_refuses_a_grade_off_the_scale_and_writes_nothing(api, judge):
    dataset, user = judge
    leased = api.post(reverse("api-query-next", args=[dataset.pk])).json()
    answers = [{"task": task["id"], "answer": "E"} for task in leased["tasks"]]
    answers[4]["answer"] = "perfect"
    response = api.post(reverse("api-query-submit", args=[dataset.pk]), {"answers": answers}, format="json")
    assert response.status_code == 400 and "Unknown answer 'perfect'" in response.json()["detail"]
    assert not Annotation.objects.filter(user=user).exists()


def test_the_api_says_when_no_query_is_left_and_refuses_other_kinds(api, judge):
    dataset, user = judge
    for _ in range(2):
        leased = api.post(reverse("api-query-next", args=[dataset.pk])).json()
        answers = [{"task": task["id"], "answer": "S"} for task in leased["tasks"]]
        api.post(reverse("api-query-submit", args=[dataset.pk]), {"answers": answers}, format="json")
    assert api.post(reverse("api-query-next", args=[dataset.pk])).status_code == 204
    other = TaskFactory().dataset
    member(other, user.username)
    refused = api.post(reverse("api-query-next", args=[other.pk]))
    assert refused.status_code == 400 and "Only a search relevance dataset" in refused.json()["detail"]


def test_the_list_shows_the_judges_figures_and_each_products_photo(client, judge):
    dataset, _ = judge
    first = shown_tasks(client.get(reverse("labeling:judge-list", args=[dataset.pk])).content.decode())
    product = Task.objects.select_related("product").get(pk=first[0]).product
    product.image_url = "https://cdn.example/p.jpg"
    product.save(update_fields=["image_url"])
    after = client.post(
        reverse("labeling:judge-list-confirm", args=[dataset.pk]), grades_for(dataset, first), headers=HX
    )
    html = after.content.decode()
    assert '<strong id="count-submitted">10</strong> judged' in html
    assert '<strong id="count-today">10</strong>' in html and '<strong id="count-session">10</strong>' in html
    undo = client.post(reverse("labeling:judge-list-undo", args=[dataset.pk]), headers=HX).content.decode()
    assert 'data-zoom-src="https://cdn.example/p.jpg"' in undo and "photos-thumb" in undo
