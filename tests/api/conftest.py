"""A dataset with something behind every id the API takes, for the schema fuzzing."""

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import override_settings
from hypothesis.configuration import set_hypothesis_home_dir
from rest_framework.authtoken.models import Token

from config.jobs.lifecycle import job_cancel
from datasets.models import Role
from labeling.gold import gold_promote_imported
from labeling.quality.report import quality_report_request, quality_report_run
from labeling.review import review_decide
from labeling.services import annotation_skip, annotation_submit
from models_app.services.experiments import experiment_create, experiment_run
from models_app.services.training import model_version_train, training_request
from tests.factories import DatasetFactory, LabelFactory, MatchingDatasetFactory, ProductFactory, UserFactory, member
from workspace.models import ImportKind
from workspace.services.candidates import candidate_run_create, candidate_run_execute
from workspace.services.exports import export_create, export_run
from workspace.services.imports import import_job_create, import_job_run
from workspace.services.invites import invite_create, invite_withdraw

# Hypothesis caches what it learns (constants of our modules) in ./.hypothesis: keep the checkout clean.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "shelfmark-hypothesis")

TAXONOMY = {
    "Electronics": ["Audio", "Phones"],
    "Fashion": ["Shoes", "Bags"],
}
WORDS = {
    "Audio": ["headphones", "earbuds", "speaker"],
    "Phones": ["smartphone", "android phone", "iphone"],
    "Shoes": ["sneakers", "boots", "sandals"],
    "Bags": ["backpack", "handbag", "tote"],
}


@dataclass
class World:
    """The tokens of the dataset's lead and annotator, and real ids per path parameter name (the first is the
    caller's own object; others are in other states, or in a dataset the caller does not belong to)."""

    tokens: dict[str, str]
    ids: dict[str, list]


def _products_csv() -> bytes:
    lines = ["id,title,brand,price,category"]
    for leaf, words in WORDS.items():
        for i in range(6):
            category = f"{'Electronics' if leaf in ('Audio', 'Phones') else 'Fashion'} > {leaf}"
            # The vendor labels two thirds of the catalog, a trusted source for gold.
            lines.append(f"{leaf}-{i},Brand{i} {words[i % 3]} {i},Brand{i},{10 + i}.50,{category if i < 4 else ''}")
    lines.append("bad-1,,NoTitle,1,")  # a rejected row, so the error report has a line
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker, tmp_path_factory) -> Iterator[World]:
    """Built once for the module inside a transaction that is rolled back at its end (Django's setUpTestData
    pattern): each test's own transaction, and each example's savepoint, start from it."""
    media = override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("api-media"))
    with media, django_db_blocker.unblock(), transaction.atomic():
        yield _build()
        transaction.set_rollback(True)


def _build() -> World:
    lead = UserFactory(username="lead")
    dataset = DatasetFactory(name="Catalog", overlap=3, cold_start_examples=2, retrain_every=0, created_by=lead)
    member(dataset, "lead", Role.LEAD)
    annotator = member(dataset, "annotator")
    second = member(dataset, "second")
    for parent, leaves in TAXONOMY.items():
        root = LabelFactory(dataset=dataset, name=parent, path=parent, code=parent[:3].lower())
        for leaf in leaves:
            LabelFactory(dataset=dataset, name=leaf, path=f"{parent} > {leaf}", parent=root, depth=1, code=leaf.lower())

    job = import_job_create(
        dataset=dataset,
        user=lead,
        kind=ImportKind.PRODUCTS,
        file=ContentFile(_products_csv(), name="products.csv"),
        options={"label_column": "category", "label_source": "vendor"},
    )
    job = import_job_run(job_id=job.pk)
    labels = {label.name: label for label in dataset.labels.all()}
    tasks = list(dataset.tasks.select_related("product").order_by("product__external_id"))
    for task in tasks[:6]:
        leaf = task.product.external_id.split("-")[0]
        annotation_submit(task=task, user=annotator, label=labels[leaf], active_seconds=3.0)
    # The second annotator disagrees on two products, flags one, and skips one.
    annotation_submit(task=tasks[0], user=second, label=labels["Phones"], active_seconds=2.0)
    annotation_submit(task=tasks[1], user=second, label=labels["Bags"], flagged=True)
    annotation_submit(task=tasks[2], user=second, label=labels["Audio"])
    annotation_skip(task=tasks[7], user=second)
    review_decide(task=tasks[0], reviewer=lead, label=labels["Audio"], note="checked")
    gold_promote_imported(dataset=dataset, source="vendor", limit=3)

    export = export_run(export_id=export_create(dataset=dataset, user=lead, fmt="csv", policy="majority").pk)
    version = model_version_train(version_id=training_request(dataset=dataset, user=lead).pk)
    experiment = experiment_run(
        experiment_id=experiment_create(dataset=dataset, user=lead, names=["current"], folds=2).pk
    )
    report = quality_report_run(report_id=quality_report_request(dataset=dataset, user=lead).pk)
    # A cancelled job of each kind, for retry to take; a queued export, for cancel to take and download to
    # refuse; an import waiting for its mapping, whose rejected rows are not known yet.
    cancelled = {
        "job_id": import_job_create(
            dataset=dataset, user=lead, kind=ImportKind.PRODUCTS, file=ContentFile(_products_csv(), name="again.csv")
        ),
        "export_id": export_create(dataset=dataset, user=lead, fmt="parquet", policy="final"),
        "version_id": training_request(dataset=dataset, user=lead),
        "experiment_id": experiment_create(dataset=dataset, user=lead, names=["current"], folds=2),
        "report_id": quality_report_request(dataset=dataset, user=lead),
    }
    cancelled = {name: job_cancel(job, by="lead").pk for name, job in cancelled.items()}
    queued_export = export_create(dataset=dataset, user=lead, fmt="jsonl", policy="final")
    draft = import_job_create(
        dataset=dataset,
        user=lead,
        kind=ImportKind.PRODUCTS,
        file=ContentFile(b"id,title\n", name="draft.csv"),
        start=False,
    )

    other = DatasetFactory(name="Someone else's")  # ids that exist but are not the caller's: 404
    # An open invite link, for listing and withdrawal to take, and a withdrawn one, which is no longer found.
    invites = [invite_create(dataset=dataset, role=Role.ANNOTATOR, user=lead).invite for _ in range(2)]
    invite_withdraw(invite=invites[1])
    runs = _candidate_runs(lead, annotator)
    return World(
        tokens={
            Role.LEAD: Token.objects.create(user=lead).key,
            Role.ANNOTATOR: Token.objects.create(user=annotator).key,
        },
        ids={
            "dataset_id": [dataset.pk, other.pk],
            "task_id": [tasks[0].pk, tasks[1].pk, tasks[6].pk, tasks[-1].pk],
            "job_id": [job.pk, cancelled["job_id"], draft.pk],
            "export_id": [export.pk, cancelled["export_id"], queued_export.pk],
            "version_id": [version.pk, cancelled["version_id"]],
            "experiment_id": [experiment.pk, cancelled["experiment_id"]],
            "report_id": [report.pk, cancelled["report_id"]],
            "username": ["annotator", "second", "lead", "nobody"],
            "run_id": runs,
            "invite_id": [invite.pk for invite in invites],
        },
    )


def _candidate_runs(lead: object, annotator: object) -> list[int]:
    """A matching dataset's candidate runs, one finished and one cancelled (retry makes a new one)."""
    dataset = MatchingDatasetFactory(name="Offers")
    dataset.memberships.create(user=lead, role=Role.LEAD)
    dataset.memberships.create(user=annotator, role=Role.ANNOTATOR)
    for shop in ("A", "B"):
        for words in WORDS.values():
            ProductFactory(dataset=dataset, title=f"{words[0]} {words[1]}", attributes={"shop": shop})
    params = {"k": 2, "source_field": "shop", "skip_same_source": True}
    done = candidate_run_execute(run_id=candidate_run_create(dataset=dataset, user=lead, params=params).pk)
    cancelled = job_cancel(candidate_run_create(dataset=dataset, user=lead, params=params), by="lead")
    return [done.pk, cancelled.pk]
