from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from config.errors import ApplicationError
from datasets.models import Dataset, Role
from labeling.models import Annotation
from models_app.ml import PRESETS
from models_app.models import Experiment, ExperimentStatus
from models_app.services.experiments import experiment_apply, experiment_create, experiment_run
from tests.factories import DatasetFactory, LabelFactory, TaskFactory, member

pytestmark = pytest.mark.django_db

NAMES = ["default", "case_kept", "words_only"]


@pytest.fixture
def lead(labeled_catalog):
    return member(labeled_catalog, "lead", Role.LEAD)


def finished(dataset: Dataset, user, names: list[str] = NAMES) -> Experiment:
    return experiment_run(experiment_id=experiment_create(dataset=dataset, user=user, names=names, folds=2).pk)


def test_a_run_scores_every_chosen_config(labeled_catalog, lead):
    experiment = finished(labeled_catalog, lead)
    assert experiment.status == ExperimentStatus.SUCCEEDED
    assert sorted(result["name"] for result in experiment.results) == sorted(NAMES)


def test_results_come_best_mean_accuracy_first(labeled_catalog, lead):
    accuracies = [result["accuracy_mean"] for result in finished(labeled_catalog, lead).results]
    assert accuracies == sorted(accuracies, reverse=True)


def test_a_run_records_the_labels_it_used(labeled_catalog, lead):
    assert finished(labeled_catalog, lead).label_count == 24


def test_creating_enqueues_the_run_on_commit(labeled_catalog, lead, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        experiment_create(dataset=labeled_catalog, user=lead, names=["default"], folds=2)
    assert len(callbacks) == 1


def test_the_current_config_is_resolved_when_requested(labeled_catalog, lead):
    labeled_catalog.model_config = {"features": {"lowercase": False}}
    labeled_catalog.save()
    experiment = experiment_create(dataset=labeled_catalog, user=lead, names=["current"], folds=2)
    assert experiment.configs["current"]["features"]["lowercase"] is False


def test_apply_makes_the_config_the_datasets_model_config(labeled_catalog, lead):
    dataset = experiment_apply(experiment=finished(labeled_catalog, lead), name="case_kept", user=lead)
    dataset.refresh_from_db()
    assert dataset.model_config == PRESETS["case_kept"].to_dict()


def test_unknown_preset_names_are_refused(labeled_catalog, lead):
    with pytest.raises(ApplicationError, match=r"Unknown config.*lowercase_everything"):
        experiment_create(dataset=labeled_catalog, user=lead, names=["default", "lowercase_everything"])


def test_no_config_is_refused(labeled_catalog, lead):
    with pytest.raises(ApplicationError, match="between 1 and 8 configs"):
        experiment_create(dataset=labeled_catalog, user=lead, names=[])


def test_more_than_eight_configs_are_refused(labeled_catalog, lead):
    custom = {f"mine{i}": {"C": float(i + 1)} for i in range(8)}
    with pytest.raises(ApplicationError, match="between 1 and 8 configs"):
        experiment_create(dataset=labeled_catalog, user=lead, names=["default"], custom=custom)


def test_an_invalid_custom_config_is_refused_with_its_key(labeled_catalog, lead):
    with pytest.raises(ApplicationError, match="tokenizer"):
        experiment_create(
            dataset=labeled_catalog, user=lead, names=[], custom={"mine": {"features": {"tokenizer": "x"}}}
        )


def test_one_fold_is_refused(labeled_catalog, lead):
    with pytest.raises(ApplicationError, match="Folds must be"):
        experiment_create(dataset=labeled_catalog, user=lead, names=["default"], folds=1)


def test_a_single_labeled_category_is_refused():
    dataset = DatasetFactory()
    label = LabelFactory(dataset=dataset)
    for task in TaskFactory.create_batch(5, dataset=dataset):
        Annotation.objects.create(dataset=dataset, task=task, label=label, source="import", source_name="seed")
    with pytest.raises(ApplicationError, match="at least 2 categories"):
        experiment_create(dataset=dataset, user=None, names=["default"])


def test_one_example_in_a_category_is_refused():
    dataset = DatasetFactory()
    for count in (5, 1):
        label = LabelFactory(dataset=dataset)
        for task in TaskFactory.create_batch(count, dataset=dataset):
            Annotation.objects.create(dataset=dataset, task=task, label=label, source="import", source_name="seed")
    with pytest.raises(ApplicationError, match="at least 2 labeled products in each of two categories"):
        experiment_create(dataset=dataset, user=None, names=["default"])


def test_a_second_experiment_waits_for_the_first(labeled_catalog, lead):
    experiment_create(dataset=labeled_catalog, user=lead, names=["default"], folds=2)
    with pytest.raises(ApplicationError, match="already waiting or running"):
        experiment_create(dataset=labeled_catalog, user=lead, names=["default"], folds=2)


def test_an_experiment_whose_worker_died_is_run_again(labeled_catalog, lead):
    experiment = experiment_create(dataset=labeled_catalog, user=lead, names=["default"], folds=2)
    long_ago = timezone.now() - timedelta(hours=1)
    Experiment.objects.filter(pk=experiment.pk).update(
        status=ExperimentStatus.RUNNING, started_at=long_ago, heartbeat_at=long_ago, attempts=1
    )
    experiment = experiment_run(experiment_id=experiment.pk)
    assert (experiment.status, experiment.interruptions, experiment.attempts) == (ExperimentStatus.SUCCEEDED, 1, 2)


def test_a_second_delivery_leaves_a_live_experiment_to_its_worker(labeled_catalog, lead):
    experiment = experiment_create(dataset=labeled_catalog, user=lead, names=["default"], folds=2)
    Experiment.objects.filter(pk=experiment.pk).update(
        status=ExperimentStatus.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now(), attempts=1
    )
    experiment = experiment_run(experiment_id=experiment.pk)
    assert (experiment.status, experiment.attempts, experiment.results) == (ExperimentStatus.RUNNING, 1, [])


def test_running_a_finished_experiment_again_changes_nothing(labeled_catalog, lead):
    experiment = finished(labeled_catalog, lead)
    again = experiment_run(experiment_id=experiment.pk)
    assert (again.status, again.finished_at, again.results) == (
        ExperimentStatus.SUCCEEDED,
        experiment.finished_at,
        experiment.results,
    )


def test_a_failing_run_records_why(labeled_catalog, lead):
    experiment = experiment_create(dataset=labeled_catalog, user=lead, names=["default"], folds=2)
    Annotation.objects.filter(dataset=labeled_catalog).delete()
    experiment = experiment_run(experiment_id=experiment.pk)
    assert experiment.status == ExperimentStatus.FAILED
    assert "at least 2 classes" in experiment.message


def test_apply_refuses_an_unfinished_experiment(labeled_catalog, lead):
    experiment = experiment_create(dataset=labeled_catalog, user=lead, names=["default"], folds=2)
    with pytest.raises(ApplicationError, match="Only a succeeded experiment"):
        experiment_apply(experiment=experiment, name="default", user=lead)


def test_apply_refuses_a_name_not_in_the_results(labeled_catalog, lead):
    with pytest.raises(ApplicationError, match="not one of this experiment's configs"):
        experiment_apply(experiment=finished(labeled_catalog, lead), name="vocab_5k", user=lead)


# The page


def page_url(dataset: Dataset) -> str:
    return reverse("models_app:experiments", args=[dataset.pk])


def test_the_page_shows_a_finished_experiment_side_by_side(client, labeled_catalog, lead):
    finished(labeled_catalog, lead)
    client.force_login(lead)
    html = client.get(page_url(labeled_catalog)).content.decode()
    assert all(f"<strong>{title}</strong>" in html for title in ("Default", "Case kept", "No character n-grams"))
    assert html.count('<tr class="best">') == 1


def test_the_config_in_use_is_marked_instead_of_offered(client, labeled_catalog, lead):
    finished(labeled_catalog, lead)
    client.force_login(lead)
    html = client.get(page_url(labeled_catalog)).content.decode()
    assert (html.count("Use this config"), html.count('<span class="badge">in use</span>')) == (len(NAMES) - 1, 1)


def test_the_page_says_what_a_preset_changes(client, labeled_catalog, lead):
    finished(labeled_catalog, lead)
    client.force_login(lead)
    assert "no character n-grams" in client.get(page_url(labeled_catalog)).content.decode()


def test_an_unfinished_experiment_polls(client, labeled_catalog, lead):
    experiment_create(dataset=labeled_catalog, user=lead, names=["default"], folds=2)
    client.force_login(lead)
    assert 'hx-trigger="every 2s"' in client.get(page_url(labeled_catalog)).content.decode()


def test_the_form_queues_an_experiment(client, labeled_catalog, lead, django_capture_on_commit_callbacks):
    client.force_login(lead)
    with django_capture_on_commit_callbacks():
        response = client.post(page_url(labeled_catalog), {"names": ["default", "vocab_5k"], "folds": "3"})
    experiment = Experiment.objects.get(dataset=labeled_catalog)
    assert response.status_code == 302
    assert (list(experiment.configs), experiment.folds) == (["default", "vocab_5k"], 3)


def test_the_form_shows_a_refusal(client, labeled_catalog, lead):
    client.force_login(lead)
    response = client.post(page_url(labeled_catalog), {"folds": "3"})
    assert response.status_code == 400
    assert "between 1 and 8 configs" in response.content.decode()


def test_use_this_config_sets_the_model_config(client, labeled_catalog, lead):
    experiment = finished(labeled_catalog, lead)
    client.force_login(lead)
    client.post(reverse("models_app:experiment-apply", args=[experiment.pk]), {"name": "words_only"})
    labeled_catalog.refresh_from_db()
    assert labeled_catalog.model_config == PRESETS["words_only"].to_dict()


def test_an_annotator_is_refused_the_page(client, labeled_catalog):
    client.force_login(member(labeled_catalog, "ann"))
    assert client.get(page_url(labeled_catalog)).status_code == 403


def test_the_page_shows_the_experiment_the_url_names(client, labeled_catalog, lead):
    named = experiment_create(dataset=labeled_catalog, user=lead, names=["words_only"], folds=2)
    named.status = ExperimentStatus.CANCELLED
    named.save(update_fields=["status"])
    experiment_create(dataset=labeled_catalog, user=lead, names=["default"], folds=2)
    client.force_login(lead)
    response = client.get(page_url(labeled_catalog), {"experiment": named.pk})
    assert response.context["experiment"] == named


@pytest.mark.parametrize("raw", ["other", "²", "abc"])
def test_an_experiment_of_another_dataset_or_no_id_is_a_404(client, labeled_catalog, lead, raw):
    foreign = Experiment.objects.create(dataset=DatasetFactory(), configs={}, folds=2)
    client.force_login(lead)
    response = client.get(page_url(labeled_catalog), {"experiment": foreign.pk if raw == "other" else raw})
    assert response.status_code == 404


# The API


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_the_api_creates_an_experiment(labeled_catalog, lead, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        response = api_for(lead).post(
            reverse("api-experiment-list", args=[labeled_catalog.pk]), {"names": ["default"], "folds": 2}, format="json"
        )
    assert (response.status_code, response.json()["status"]) == (202, ExperimentStatus.QUEUED)


def test_the_api_refuses_unknown_names_as_json(labeled_catalog, lead):
    response = api_for(lead).post(
        reverse("api-experiment-list", args=[labeled_catalog.pk]), {"names": ["nope"]}, format="json"
    )
    assert (response.status_code, response.json()["extra"]) == (400, {"names": ["nope"]})


def test_the_api_shows_the_results(labeled_catalog, lead):
    experiment = finished(labeled_catalog, lead)
    detail = api_for(lead).get(reverse("api-experiment-detail", args=[experiment.pk])).json()
    assert [result["name"] for result in detail["results"]] == [result["name"] for result in experiment.results]


def test_the_api_applies_a_config(labeled_catalog, lead):
    experiment = finished(labeled_catalog, lead)
    response = api_for(lead).post(
        reverse("api-experiment-apply", args=[experiment.pk]), {"name": "case_kept"}, format="json"
    )
    assert response.json()["model_config"] == PRESETS["case_kept"].to_dict()


def test_an_annotator_is_refused_the_api(labeled_catalog):
    api = api_for(member(labeled_catalog, "ann"))
    assert api.get(reverse("api-experiment-list", args=[labeled_catalog.pk])).status_code == 403
    assert api.post(reverse("api-experiment-list", args=[labeled_catalog.pk]), {}, format="json").status_code == 403
