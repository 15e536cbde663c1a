from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from datasets.models import Dataset, Role
from labeling.models import Annotation
from models_app.models import ModelVersion, TrainingTrigger, VersionStatus
from models_app.selectors import forecast_for, model_version_report
from models_app.services.training import model_version_train, training_request
from tests.factories import DatasetFactory, LabelFactory, TaskFactory, member

pytestmark = pytest.mark.django_db

PATHS = ("Electronics > Audio > Headphones", "Apparel > Shoes > Sneakers", "Home > Kitchen > Kettles")


@pytest.fixture
def dataset() -> Dataset:
    dataset = DatasetFactory()
    for path in PATHS:
        LabelFactory(dataset=dataset, name=path.rsplit(" > ", 1)[-1], path=path)
    return dataset


@pytest.fixture
def lead_client(client, dataset):
    client.force_login(member(dataset, "lead", Role.LEAD))
    return client


def page_url(dataset: Dataset) -> str:
    return reverse("models_app:page", args=[dataset.pk])


def train_url(dataset: Dataset) -> str:
    return reverse("models_app:train", args=[dataset.pk])


def holdout_metrics(dataset: Dataset, accuracy: float = 0.93) -> dict:
    """What a training of three categories records: 200 held-out products, sneakers the weakest class."""
    ids = {name: str(pk) for name, pk in dataset.labels.values_list("name", "pk")}
    headphones, sneakers, kettles = ids["Headphones"], ids["Sneakers"], ids["Kettles"]
    return {
        "n": 200,
        "accuracy": accuracy,
        "macro_f1": 0.91,
        "per_class": {
            headphones: {"precision": 0.95, "recall": 0.97, "f1": 0.96, "support": 90},
            sneakers: {"precision": 0.78, "recall": 0.7, "f1": 0.74, "support": 30},
            kettles: {"precision": 0.95, "recall": 0.93, "f1": 0.94, "support": 80},
        },
        "confusion": {"labels": [headphones, sneakers, kettles], "matrix": [[87, 2, 1], [6, 21, 3], [2, 4, 74]]},
        "level_accuracy": [0.98, 0.95, 0.93],
        "hierarchical_accuracy": 0.95,
    }


def succeeded_version(dataset: Dataset, number: int = 1, label_count: int = 800, accuracy: float = 0.93, **fields):
    finished = timezone.now() - timedelta(hours=1)
    return ModelVersion.objects.create(
        dataset=dataset,
        number=number,
        status=VersionStatus.SUCCEEDED,
        label_count=label_count,
        metrics=holdout_metrics(dataset, accuracy),
        timings={"gather_s": 0.4, "train_s": 6.1, "rescore_s": 12.5, "total_s": 19.0, "cold_start": False},
        scored_count=5000,
        started_at=finished - timedelta(seconds=19),
        finished_at=finished,
        **fields,
    )


def human_labels(dataset: Dataset, count: int, hours_ago: float) -> None:
    user = member(dataset, f"annotator{hours_ago}")
    label = dataset.labels.first()
    for task in TaskFactory.create_batch(count, dataset=dataset):
        Annotation.objects.create(dataset=dataset, task=task, user=user, label=label)
    Annotation.objects.filter(user=user).update(created_at=timezone.now() - timedelta(hours=hours_ago))


def test_the_page_renders_for_a_lead_before_any_training(lead_client, dataset):
    response = lead_client.get(page_url(dataset))
    assert response.status_code == 200
    assert "No model yet" in response.content.decode()


def test_the_page_shows_the_active_versions_accuracy(lead_client, dataset):
    succeeded_version(dataset, is_active=True)
    response = lead_client.get(page_url(dataset))
    assert response.status_code == 200
    assert "93.0%" in response.content.decode()


def test_the_page_shows_accuracy_at_each_taxonomy_level(lead_client, dataset):
    succeeded_version(dataset, is_active=True)
    assert "Level 3 accuracy" in lead_client.get(page_url(dataset)).content.decode()


def test_the_confusion_matrix_shows_leaves_with_the_full_path_in_the_title(lead_client, dataset):
    succeeded_version(dataset, is_active=True)
    html = lead_client.get(page_url(dataset)).content.decode()
    assert 'title="Electronics &gt; Audio &gt; Headphones"><span>Headphones</span>' in html


def test_confusion_cells_are_shaded_by_their_share_of_the_true_class(dataset):
    report = model_version_report(version=succeeded_version(dataset))
    sneakers = next(row for row in report["confusion"]["rows"] if row["leaf"] == "Sneakers")
    assert [cell["alpha"] for cell in sneakers["cells"] if cell["diagonal"]] == ["0.70"]  # 21 of 30


def test_per_class_figures_come_worst_f1_first(dataset):
    report = model_version_report(version=succeeded_version(dataset))
    assert [row["leaf"] for row in report["classes"]] == ["Sneakers", "Kettles", "Headphones"]


def test_a_failed_version_shows_its_error(lead_client, dataset):
    ModelVersion.objects.create(
        dataset=dataset, number=1, status=VersionStatus.FAILED, message="TrainingError: every label needs 2 examples"
    )
    assert "TrainingError: every label needs 2 examples" in lead_client.get(page_url(dataset)).content.decode()


def test_an_annotator_is_refused(client, dataset):
    client.force_login(member(dataset, "ann"))
    assert client.get(page_url(dataset)).status_code == 403


def test_a_non_member_does_not_see_the_dataset(client, dataset):
    client.force_login(member(DatasetFactory(), "stranger", Role.LEAD))
    assert client.get(page_url(dataset)).status_code == 404


def test_train_now_queues_a_version(lead_client, dataset, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        response = lead_client.post(train_url(dataset))
    assert response.status_code == 302
    version = ModelVersion.objects.get(dataset=dataset)
    assert (version.status, version.trigger) == (VersionStatus.QUEUED, TrainingTrigger.MANUAL)


def test_a_second_train_request_joins_the_waiting_run(lead_client, dataset, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        lead_client.post(train_url(dataset))
        lead_client.post(train_url(dataset))
    assert ModelVersion.objects.filter(dataset=dataset).count() == 1


def test_train_from_htmx_returns_the_polling_versions_partial(lead_client, dataset, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        response = lead_client.post(train_url(dataset), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert 'hx-trigger="every 2s"' in html
    assert "<h1>" not in html


def test_polling_stops_with_a_page_refresh_once_the_run_is_over(lead_client, dataset):
    succeeded_version(dataset, is_active=True)
    response = lead_client.get(page_url(dataset) + "?poll=1", headers={"HX-Request": "true"})
    assert response["HX-Refresh"] == "true"


def test_the_forecast_gives_the_labels_and_hours_to_the_target(dataset):
    # acc(n) = 0.97 - 1.2 / sqrt(n) reaches 0.95 at 3,600 labels, 2,800 more than the latest version.
    for number, count in enumerate((100, 200, 400, 800), start=1):
        succeeded_version(dataset, number=number, label_count=count, accuracy=round(0.97 - 1.2 / count**0.5, 4))
    human_labels(dataset, 30, hours_ago=30)
    human_labels(dataset, 48, hours_ago=12)  # 48 labels in the last 24 hours: 2 an hour
    forecast = forecast_for(dataset=dataset, target=0.95)
    assert forecast["more_labels"] == pytest.approx(2800, rel=0.05)
    assert forecast["hours"] == pytest.approx(forecast["more_labels"] / 2)


def test_the_page_states_the_forecast_for_the_target_in_the_query(lead_client, dataset):
    for number, count in enumerate((100, 200, 400, 800), start=1):
        succeeded_version(dataset, number=number, label_count=count, accuracy=round(0.97 - 1.2 / count**0.5, 4))
    html = lead_client.get(page_url(dataset) + "?target=0.94").content.decode()
    assert "more labels reach 94% accuracy" in html


def test_the_model_page_shows_how_suggestions_sway_annotators(client, db):
    dataset = DatasetFactory()
    client.force_login(member(dataset, "lead", Role.LEAD))
    response = client.get(reverse("models_app:page", args=[dataset.pk]))
    assert b"Do suggestions sway annotators?" in response.content


def one_product_version(dataset: Dataset, number: int = 1, label_count: int = 31, **fields) -> ModelVersion:
    """The trial's model: one held-out product, its leaf wrong and its top level right."""
    version = succeeded_version(dataset, number=number, label_count=label_count, **fields)
    version.metrics = {"n": 1, "accuracy": 0.0, "macro_f1": 0.0, "level_accuracy": [1.0, 0.0, 0.0]}
    version.save(update_fields=["metrics"])
    return version


def test_a_model_measured_on_one_product_shows_no_accuracy_but_why(lead_client, dataset):
    one_product_version(dataset, is_active=True)
    html = lead_client.get(page_url(dataset)).content.decode()
    assert "No accuracy figures for this version: too few held-out labels: 1." in html
    assert "0.0%" not in html and "100.0%" not in html


def test_a_model_measured_on_one_product_shows_no_level_accuracy(lead_client, dataset):
    one_product_version(dataset, is_active=True)
    assert "Level 1 accuracy" not in lead_client.get(page_url(dataset)).content.decode()


def test_a_model_measured_on_one_product_shows_no_confusion_matrix(lead_client, dataset):
    one_product_version(dataset, is_active=True)
    assert "Confusion matrix" not in lead_client.get(page_url(dataset)).content.decode()


def test_the_accuracy_comes_with_its_interval_and_n(lead_client, dataset):
    succeeded_version(dataset, is_active=True)  # 93% of 200: Wilson 88.6%-95.8%
    html = lead_client.get(page_url(dataset)).content.decode()
    assert "93.0%<br><small>95% CI 89%–96%</small>" in html
    assert "<dd>200 held-out labels</dd>" in html


def test_a_cross_validated_accuracy_says_so(lead_client, dataset):
    version = succeeded_version(dataset, is_active=True)
    ModelVersion.objects.filter(pk=version.pk).update(
        metrics={**version.metrics, "n": 31, "evaluated_on": "cross-validation", "folds": 4}
    )
    assert "<dd>31 labels, 4-fold cross-validation</dd>" in lead_client.get(page_url(dataset)).content.decode()


def test_the_runs_table_gives_the_reason_instead_of_an_accuracy(lead_client, dataset):
    one_product_version(dataset)
    html = lead_client.get(page_url(dataset), headers={"HX-Request": "true"}).content.decode()
    assert '<td title="too few held-out labels: 1">–</td>' in html


def test_a_version_measured_on_too_few_labels_is_no_point_of_the_learning_curve(dataset):
    one_product_version(dataset, number=1, label_count=31)
    succeeded_version(dataset, number=2, label_count=800)
    forecast = forecast_for(dataset=dataset, target=0.95)
    assert [point[0] for point in forecast["points"]] == [800]
    assert forecast["withheld"] == [{"number": 1, "labels": 31, "reason": "too few held-out labels: 1"}]


def test_learning_curve_points_carry_their_interval(dataset):
    succeeded_version(dataset, label_count=800)
    assert forecast_for(dataset=dataset, target=0.95)["points"] == [[800, 0.93, 0.8859, 0.9578]]


def test_the_page_lists_the_versions_left_off_the_curve(lead_client, dataset):
    one_product_version(dataset, number=1, label_count=31)
    html = lead_client.get(page_url(dataset)).content.decode()
    assert "v1 (31 labels, too few held-out labels: 1)" in html


def test_the_page_says_what_the_kept_catalog_features_hold(client, labeled_catalog):
    client.force_login(member(labeled_catalog, "lead", Role.LEAD))
    assert 'id="catalog-features"' not in client.get(page_url(labeled_catalog)).content.decode()
    model_version_train(version_id=training_request(dataset=labeled_catalog).pk)

    page = client.get(page_url(labeled_catalog)).content.decode()

    assert "Catalog features: 36 products featurized once, with vocabularies learned from" in page
    assert "0 rows featurized again since" in page
