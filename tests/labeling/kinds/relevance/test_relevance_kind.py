"""The relevance kind on the seam: datasets made with their grade scale, the judge's page, answers by grade, and
exports in the ESCI layout and as TREC qrels, split by query."""

import csv
import io

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from config.errors import ApplicationError
from datasets.models import Query
from labeling.kinds import kind_get
from labeling.kinds.relevance.candidates import relevance_candidates
from labeling.models import Annotation, Review, Task
from labeling.services import annotation_submit
from tests.factories import ProductFactory, UserFactory, member
from workspace.services.datasets import dataset_create, dataset_update
from workspace.services.export_params import export_params_clean
from workspace.services.exports import export_write

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
CATALOG = [
    ("iphone", "Apple iPhone 13 128GB"),
    ("case", "Silicone case for iPhone 13"),
    ("galaxy", "Samsung Galaxy S21 black"),
    ("fridge", "Samsung fridge freezer black"),
]


def relevance_dataset(**settings):
    lead = UserFactory(username=f"lead{Query.objects.count()}{UserFactory._meta.model.objects.count()}")
    dataset = dataset_create(user=lead, name="Search", task_type="relevance", **settings)
    for external_id, title in CATALOG:
        ProductFactory(dataset=dataset, external_id=external_id, title=title)
    Query.objects.create(dataset=dataset, external_id="q1", text="iphone 13")
    Query.objects.create(dataset=dataset, external_id="q2", text="samsung black")
    relevance_candidates(dataset=dataset, pool=2)
    return dataset


def grades(dataset):
    return [(label.code, label.name) for label in dataset.labels.order_by("pk")]


def test_a_relevance_dataset_grades_on_esci_by_default_or_on_the_scale_chosen():
    assert grades(relevance_dataset()) == [("E", "exact"), ("S", "substitute"), ("C", "complement"),
                                           ("I", "irrelevant")]
    graded = relevance_dataset(grade_scale="graded")
    assert graded.grade_scale == "graded"
    assert grades(graded) == [("3", "perfect"), ("2", "good"), ("1", "fair"), ("0", "bad")]
    assert grades(relevance_dataset(grade_scale="binary")) == [("1", "relevant"), ("0", "not relevant")]


def test_a_grade_scale_is_refused_where_it_means_nothing_and_fixed_once_made():
    lead = UserFactory()
    with pytest.raises(ApplicationError, match="Unknown grade scale 'stars'"):
        dataset_create(user=lead, name="x", task_type="relevance", grade_scale="stars")
    with pytest.raises(ApplicationError, match="only search relevance datasets grade"):
        dataset_create(user=lead, name="x", task_type="categorization", grade_scale="esci")
    assert dataset_create(user=lead, name="c", task_type="categorization").grade_scale == ""
    with pytest.raises(ApplicationError, match="cannot be changed: grade_scale"):
        dataset_update(dataset=relevance_dataset(), grade_scale="binary")


@pytest.mark.parametrize("value", ["E", "exact", "3", " Exact Match "])
def test_an_answer_names_its_grade_by_code_name_value_or_alias(value):
    dataset = relevance_dataset()
    answer = kind_get("relevance").answer_clean(dataset=dataset, label=None, value=value, flagged=False)
    assert answer.label.code == "E"


def test_an_unknown_grade_lists_the_scale():
    dataset = relevance_dataset(grade_scale="binary")
    with pytest.raises(ApplicationError, match="choose one of: relevant, not relevant"):
        kind_get("relevance").answer_clean(dataset=dataset, label=None, value="E", flagged=False)


def test_the_judge_sees_the_query_over_the_product_and_grades_with_one_key(client):
    dataset = relevance_dataset()
    client.force_login(member(dataset, "judge"))
    page = client.get(reverse("labeling:annotate", args=[dataset.pk]))
    html = page.content.decode()
    task = Task.objects.get(pk=int(html.split('data-task-id="')[1].split('"')[0]))
    assert f"“{task.query.text}”" in html
    assert task.product.title in html
    for key, name in (("1", "Exact"), ("2", "Substitute"), ("3", "Complement"), ("4", "Irrelevant")):
        assert f'data-submit-key="{key}"' in html and name in html

    substitute = dataset.labels.get(code="S")
    after = client.post(reverse("labeling:submit", args=[task.pk]), {"label": substitute.pk}, headers=HX)
    assert after.status_code == 200
    answer = Annotation.objects.get(task=task)
    assert (answer.label.code, answer.user.username) == ("S", "judge")
    assert f'data-task-id="{task.pk}"' not in after.content.decode()


def judged(dataset):
    """Every pooled (query, product) judged: the first product of each query exact, the others irrelevant."""
    judge = member(dataset, "judge")
    seen = set()
    for task in Task.objects.filter(dataset=dataset).select_related("query").order_by("query__external_id", "pk"):
        code = "I" if task.query_id in seen else "E"
        seen.add(task.query_id)
        annotation_submit(task=task, user=judge, label=dataset.labels.get(code=code), flagged=False)


def export(dataset, fmt, **options):
    params = export_params_clean(fmt=fmt, policy=options.pop("policy", "final"), options=options, dataset=dataset)
    out = io.BytesIO()
    export_write(dataset=dataset, params=params, out=out)
    return out.getvalue().decode()


def test_the_esci_export_names_query_product_and_grade():
    dataset = relevance_dataset()
    judged(dataset)
    rows = list(csv.DictReader(io.StringIO(export(dataset, "csv"))))
    assert list(rows[0])[:9] == ["query_id", "query", "locale", "product_id", "product_title", "esci_label", "grade",
                                 "split", "gold"]
    pairs = {(row["query_id"], row["product_id"]): (row["esci_label"], row["grade"]) for row in rows}
    tasks = Task.objects.filter(dataset=dataset).values_list("query__external_id", "product__external_id")
    assert set(pairs) == set(tasks)
    assert sorted(pairs.values()) == [("E", "3"), ("E", "3"), ("I", "0"), ("I", "0")]
    assert {row["query"] for row in rows} == {"iphone 13", "samsung black"}


def test_qrels_write_one_line_per_judged_pair_with_the_grade_value():
    dataset = relevance_dataset(grade_scale="graded")
    judge = member(dataset, "judge")
    for task in Task.objects.filter(dataset=dataset):
        annotation_submit(task=task, user=judge, label=dataset.labels.get(code="2"), flagged=False)
    lines = export(dataset, "qrels").splitlines()
    tasks = Task.objects.filter(dataset=dataset).values_list("query__external_id", "product__external_id")
    assert sorted(lines) == sorted(f"{query} 0 {product} 2" for query, product in tasks)
    with pytest.raises(ApplicationError, match="one grade per query and product"):
        export(dataset, "qrels", policy="raw")
    with pytest.raises(ApplicationError, match="no split column"):
        export(dataset, "qrels", split="0.5,0.25,0.25")


def test_a_split_keeps_each_query_whole():
    dataset = relevance_dataset()
    products = list(dataset.products.all())
    for n in range(3, 41):  # enough queries that every split gets some
        query = Query.objects.create(dataset=dataset, external_id=f"q{n}", text=f"query {n}")
        for product in products[:3]:
            Task.objects.create(dataset=dataset, product=product, query=query, random_key=n * 10 + product.pk)
    judge = member(dataset, "judge")
    for task in Task.objects.filter(dataset=dataset):
        annotation_submit(task=task, user=judge, label=dataset.labels.get(code="E"), flagged=False)
    for policy in ("final", "raw"):
        rows = list(csv.DictReader(io.StringIO(export(dataset, "csv", policy=policy, split="0.6,0.2,0.2"))))
        splits_of = {}
        for row in rows:
            splits_of.setdefault(row["query_id"], set()).add(row["split"])
        assert all(len(splits) == 1 for splits in splits_of.values())
        assert {split for splits in splits_of.values() for split in splits} == {"train", "dev", "test"}


def test_the_api_serves_the_query_with_its_product_and_takes_a_grade_by_value():
    dataset = relevance_dataset()
    api = APIClient()
    api.force_authenticate(member(dataset, "judge"))
    task = api.post(reverse("api-task-next", args=[dataset.pk])).json()
    served = Task.objects.get(pk=task["id"])
    assert (task["kind"], task["product"]["id"], task["items"]) == ("relevance", served.product_id, [])
    assert task["query"] == {"id": served.query_id, "external_id": served.query.external_id,
                             "text": served.query.text, "locale": ""}
    response = api.post(reverse("api-task-submit", args=[task["id"]]), {"answer": "complement"}, format="json")
    assert response.status_code == 201
    assert Annotation.objects.get(task_id=task["id"]).label.code == "C"
    refused = api.post(reverse("api-task-submit", args=[served.pk]), {"answer": "perfect"}, format="json")
    assert refused.status_code == 400 and "exact, substitute, complement, irrelevant" in refused.json()["detail"]


def test_a_disagreement_is_reviewed_with_the_query_the_grades_on_their_keys_and_decided(client):
    dataset = relevance_dataset(overlap=2)
    task = Task.objects.filter(dataset=dataset).first()
    grades = {label.code: label for label in dataset.labels.all()}
    annotation_submit(task=task, user=member(dataset, "ann"), label=grades["E"], flagged=False)
    annotation_submit(task=task, user=member(dataset, "bob"), label=grades["C"], flagged=False)
    client.force_login(member(dataset, "lead", role="lead"))
    html = client.get(reverse("labeling:review", args=[dataset.pk])).content.decode()
    assert f"“{task.query.text}”" in html and task.product.title in html
    assert "<kbd>1</kbd>…<kbd>4</kbd> choose" in html and "/</kbd> search" not in html
    for code, key in (("E", "1"), ("S", "2"), ("C", "3"), ("I", "4")):
        assert f'value="{grades[code].pk}" required data-key="{key}"' in html
    decided = client.post(reverse("labeling:review-decide", args=[dataset.pk, task.pk]), {"label": grades["S"].pk})
    assert decided.status_code in (200, 302)
    assert Review.objects.get(task=task).label.code == "S"


def test_a_results_history_is_titled_by_its_query_and_product(client):
    dataset = relevance_dataset()
    task = Task.objects.filter(dataset=dataset).select_related("query", "product").first()
    annotation_submit(task=task, user=member(dataset, "ann"), label=dataset.labels.get(code="E"), flagged=False)
    client.force_login(member(dataset, "lead", role="lead"))
    html = client.get(reverse("labeling:task-history", args=[dataset.pk, task.pk])).content.decode()
    assert f"{task.query.text} → {task.product.title}" in html and "exact" in html
