"""A simulated team through the real queue: overlap respected, the spammer stands out in the report."""

import pytest
from django.core.management import CommandError, call_command

from labeling.models import Annotation, Task
from labeling.simulation import annotators_parse, simulate_team
from tests.factories import DatasetFactory, LabelFactory, MatchingDatasetFactory, ProductFactory, TaskFactory, pair_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog_with_truth(db):
    dataset = DatasetFactory(overlap=3, gold_warmup=0)
    parents = {name: LabelFactory(dataset=dataset, name=name, path=name) for name in ("Home", "Tech")}
    leaves = [
        LabelFactory(dataset=dataset, name=leaf, path=f"{parent} > {leaf}", parent=parents[parent], depth=1)
        for parent, leaf in (("Home", "Kitchen"), ("Home", "Garden"), ("Tech", "Audio"), ("Tech", "Phones"))
    ]
    truth = {}
    for n in range(60):
        product = ProductFactory(dataset=dataset, external_id=f"P{n}")
        TaskFactory(dataset=dataset, product=product)
        truth[product.external_id] = leaves[n % 4].path
    return dataset, truth


def test_the_team_answers_through_the_queue_with_the_datasets_overlap(catalog_with_truth):
    dataset, truth = catalog_with_truth
    team = annotators_parse("ann:0.9:6,bea:0.8:8,spam:same:1")
    run = simulate_team(dataset=dataset, truth=truth, team=team, answers=150, seed=3, spread_days=3)
    assert run["answers"] == 150 and set(run["by_annotator"]) == {"sim-ann", "sim-bea", "sim-spam"}
    assert max(Task.objects.filter(dataset=dataset).values_list("annotation_count", flat=True)) <= 3
    days = {when.date() for when in Annotation.objects.filter(dataset=dataset).values_list("created_at", flat=True)}
    assert len(days) >= 3


def test_the_command_prints_figures_where_the_spammer_stands_out(catalog_with_truth, tmp_path, capsys):
    dataset, truth = catalog_with_truth
    truth_file = tmp_path / "truth.csv"
    truth_file.write_text("external_id,label\n" + "".join(f"{k},{v}\n" for k, v in truth.items()))
    call_command(
        "simulate_team", dataset=str(dataset.pk), truth=truth_file, answers=180, seed=1,
        annotators="ann:0.95:6,bea:0.9:7,spam:same:1",
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("180 answers")
    rows = {line.split()[0]: line for line in lines[1:]}
    assert "same label" in rows["sim-spam"] and "fast" in rows["sim-spam"]
    assert "same label" not in rows["sim-ann"] and "fast" not in rows["sim-ann"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [("ann:0.9", "expected name:accuracy:seconds"), ("ann:x:6", "must be numbers"), ("ann:1.5:6", "between 0 and 1"),
     ("a:0.9:6,a:0.8:6", "different name")],
)
def test_bad_team_specs_are_refused(spec, message):
    from config.errors import ApplicationError

    with pytest.raises(ApplicationError, match=message):
        annotators_parse(spec)


def test_gold_promoted_before_the_run_measures_the_team(catalog_with_truth):
    from labeling.gold import gold_promote_imported
    from labeling.models import LabelSource
    from labeling.quality.report import quality_figures

    dataset, truth = catalog_with_truth
    dataset.gold_warmup = 4
    dataset.save()
    tasks = list(Task.objects.filter(dataset=dataset).select_related("product")[:8])
    labels = {label.path: label for label in dataset.labels.all()}
    Annotation.objects.bulk_create(
        Annotation(dataset=dataset, task=task, label=labels[truth[task.product.external_id]],
                   source=LabelSource.IMPORT, source_name="checked")
        for task in tasks
    )
    gold_promote_imported(dataset=dataset, source="checked")
    simulate_team(dataset=dataset, truth=truth, team=annotators_parse("ann:1.0:6,bea:1.0:6"), answers=40,
                  seed=2, spread_days=2)
    _, figures = quality_figures(dataset=dataset)
    gold = {row["name"]: (row["gold_items"], row["gold_accuracy"]) for row in figures["annotators"]}
    assert gold["sim-ann"] == (4, 1.0) and gold["sim-bea"] == (4, 1.0)
    assert gold["import: checked"][0] == 0  # the source that defined the gold is not tested by it


def test_the_command_refuses_a_matching_dataset_before_reading_the_truth(tmp_path):
    dataset = MatchingDatasetFactory(name="Pairs")
    pair = pair_task(dataset, ProductFactory(dataset=dataset), ProductFactory(dataset=dataset))
    truth_file = tmp_path / "truth.csv"
    truth_file.write_text("left_id,right_id,label\nA,B,1\n")  # a pairs truth: no product ids to answer from
    with pytest.raises(CommandError, match=r"'Pairs' is a product matching dataset.*categorization datasets only"):
        call_command("simulate_team", dataset=str(dataset.pk), truth=truth_file, annotators="ann:0.9:6")
    assert not Annotation.objects.filter(task=pair).exists()
