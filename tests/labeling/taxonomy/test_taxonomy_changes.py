"""Taxonomy changes mid-project (issue 15): what each change does to labels, answers, history and exports."""

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.errors import ApplicationError
from config.sql_rows import statement_source
from datasets.models import Label, TaxonomyAction, TaxonomyChange
from datasets.selectors import label_children, label_search, label_search_ranked
from labeling.models import Annotation, EventAction, LabelEvent, Review, Task
from labeling.review import review_decide
from labeling.services import annotation_submit
from labeling.taxonomy_changes import (
    taxonomy_add_child,
    taxonomy_deprecate,
    taxonomy_merge,
    taxonomy_move,
    taxonomy_rename,
)
from labeling.taxonomy_selectors import taxonomy_tree
from tests.factories import DatasetFactory, LabelFactory, MatchingDatasetFactory, TaskFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db):
    """Shop > Shoes > Sneakers, Shop > Shoes > Boots, Shop > Audio; overlap 2; a lead and two annotators."""
    dataset = DatasetFactory(overlap=2)
    paths = ["Shop", "Shop > Shoes", "Shop > Shoes > Sneakers", "Shop > Shoes > Boots", "Shop > Audio"]
    labels: dict[str, Label] = {}
    for path in paths:
        parts = path.split(" > ")
        parent = labels.get(" > ".join(parts[:-1]))
        labels[parts[-1]] = labels[path] = LabelFactory(
            dataset=dataset, name=parts[-1], path=path, parent=parent, depth=len(parts) - 1
        )
    tasks = TaskFactory.create_batch(3, dataset=dataset)
    return dataset, labels, tasks, member(dataset, "ann1"), member(dataset, "ann2"), member(dataset, "lead", "lead")


def paths(dataset) -> set[str]:
    return set(Label.objects.filter(dataset=dataset).values_list("path", flat=True))


def test_a_rename_changes_the_path_of_the_label_and_its_descendants(shop):
    dataset, labels, _, _, _, lead = shop
    change = taxonomy_rename(dataset=dataset, label=labels["Shoes"], name="Footwear", user=lead)
    assert paths(dataset) == {
        "Shop",
        "Shop > Footwear",
        "Shop > Footwear > Sneakers",
        "Shop > Footwear > Boots",
        "Shop > Audio",
    }
    assert (change.action, change.old_path, change.new_path) == (
        TaxonomyAction.RENAME,
        "Shop > Shoes",
        "Shop > Footwear",
    )


def test_a_move_changes_paths_and_depths_of_the_subtree(shop):
    dataset, labels, _, _, _, lead = shop
    taxonomy_move(dataset=dataset, label=labels["Shoes"], parent=None, user=lead)
    moved = Label.objects.get(pk=labels["Sneakers"].pk)
    assert (moved.path, moved.depth) == ("Shoes > Sneakers", 1)
    assert Label.objects.get(pk=labels["Shoes"].pk).parent_id is None


def test_a_label_cannot_move_under_its_own_descendant(shop):
    dataset, labels, _, _, _, lead = shop
    with pytest.raises(ApplicationError, match="under itself"):
        taxonomy_move(dataset=dataset, label=labels["Shoes"], parent=labels["Sneakers"], user=lead)


def test_a_rename_onto_an_existing_path_is_refused(shop):
    dataset, labels, _, _, _, lead = shop
    with pytest.raises(ApplicationError, match="already has a label"):
        taxonomy_rename(dataset=dataset, label=labels["Boots"], name="Sneakers", user=lead)


def test_a_merge_moves_answers_reviews_gold_and_suggestions_with_one_event_per_changed_answer(shop):
    dataset, labels, tasks, ann1, ann2, lead = shop
    boots, sneakers = labels["Boots"], labels["Sneakers"]
    annotation_submit(task=tasks[0], user=ann1, label=boots)
    annotation_submit(task=tasks[0], user=ann2, label=sneakers)
    annotation_submit(task=tasks[1], user=ann1, label=labels["Audio"])
    review_decide(task=tasks[1], reviewer=lead, label=boots)
    Task.objects.filter(pk=tasks[2].pk).update(
        is_gold=True, gold_label=boots, suggestions=[[boots.pk, 0.5], [sneakers.pk, 0.3], [labels["Audio"].pk, 0.2]]
    )
    assert Task.objects.get(pk=tasks[0].pk).needs_review

    change = taxonomy_merge(dataset=dataset, source=boots, target=sneakers, user=lead)

    assert not Annotation.objects.filter(label=boots).exists()
    assert Review.objects.get(task=tasks[1]).label_id == sneakers.pk
    gold = Task.objects.get(pk=tasks[2].pk)
    assert gold.gold_label_id == sneakers.pk
    assert [[label_id, round(p, 6)] for label_id, p in gold.suggestions] == [
        [sneakers.pk, 0.8],
        [labels["Audio"].pk, 0.2],
    ]
    assert change.counts == {"answers": 1, "reviews": 1, "gold": 1, "suggestions": 1}
    events = LabelEvent.objects.filter(taxonomy_change=change)
    assert sorted((e.task_id, e.old_label_id, e.new_label_id, e.action) for e in events) == sorted(
        [
            (tasks[0].pk, boots.pk, sneakers.pk, EventAction.TAXONOMY),
            (tasks[1].pk, boots.pk, sneakers.pk, EventAction.TAXONOMY),
        ]
    )
    boots.refresh_from_db()
    assert boots.deprecated and boots.merged_into_id == sneakers.pk
    # The two answers now agree: the task leaves the review queue.
    assert not Task.objects.get(pk=tasks[0].pk).needs_review


def test_a_merge_is_a_fixed_number_of_statements_however_many_answers(shop):
    dataset, labels, _, _, _, lead = shop
    tasks = TaskFactory.create_batch(40, dataset=dataset)
    Annotation.objects.bulk_create(
        Annotation(dataset=dataset, task=task, label=labels["Boots"], source="import", source_name="seed")
        for task in tasks
    )
    with CaptureQueriesContext(connection) as queries:
        taxonomy_merge(dataset=dataset, source=labels["Boots"], target=labels["Sneakers"], user=lead)
    assert LabelEvent.objects.filter(action=EventAction.TAXONOMY).count() == 40
    assert len(queries) < 20


def test_a_merged_or_deprecated_label_is_refused_with_the_reason(shop):
    dataset, labels, tasks, ann1, _, lead = shop
    taxonomy_merge(dataset=dataset, source=labels["Boots"], target=labels["Sneakers"], user=lead)
    taxonomy_deprecate(dataset=dataset, label=labels["Audio"], user=lead)
    with pytest.raises(ApplicationError, match="merged into 'Shop > Shoes > Sneakers'"):
        annotation_submit(task=tasks[0], user=ann1, label=Label.objects.get(pk=labels["Boots"].pk))
    with pytest.raises(ApplicationError, match="deprecated"):
        annotation_submit(task=tasks[0], user=ann1, label=Label.objects.get(pk=labels["Audio"].pk))
    assert {label.name for label in label_search(dataset=dataset, query="")} == {"Sneakers", "Shoes", "Shop"}


def test_an_answer_with_a_label_loaded_before_a_merge_is_refused_at_its_write(shop):
    dataset, labels, tasks, ann1, _, lead = shop
    stale = Label.objects.get(pk=labels["Boots"].pk)
    taxonomy_merge(dataset=dataset, source=labels["Boots"], target=labels["Sneakers"], user=lead)
    with pytest.raises(ApplicationError, match="merged into 'Shop > Shoes > Sneakers'"):
        annotation_submit(task=tasks[0], user=ann1, label=stale)
    assert not Annotation.objects.filter(task=tasks[0]).exists()


def test_the_deprecated_recheck_adds_no_query_to_a_submit(shop):
    _, labels, tasks, ann1, _, _ = shop
    annotation_submit(task=tasks[0], user=ann1, label=labels["Boots"])
    with CaptureQueriesContext(connection) as with_label:
        annotation_submit(task=tasks[1], user=ann1, label=labels["Boots"])
    statements = [statement_source(query["sql"]) for query in with_label]
    assert not [sql for sql in statements if sql.startswith('SELECT "datasets_label"')]
    # The flag is read again in the statement that locks the task (the one-statement write on PostgreSQL).
    assert [sql for sql in statements if "labeling_task" in sql and "datasets_label" in sql and "deprecated" in sql]


def test_deprecating_a_branch_deprecates_its_descendants(shop):
    dataset, labels, _, _, _, lead = shop
    change = taxonomy_deprecate(dataset=dataset, label=labels["Shoes"], user=lead)
    assert change.counts == {"labels": 3}
    assert set(Label.objects.filter(deprecated=True).values_list("name", flat=True)) == {"Shoes", "Sneakers", "Boots"}


def test_a_child_of_a_leaf_sends_the_leafs_answers_to_review(shop):
    dataset, labels, tasks, ann1, ann2, lead = shop
    annotation_submit(task=tasks[0], user=ann1, label=labels["Audio"])
    annotation_submit(task=tasks[0], user=ann2, label=labels["Audio"])
    annotation_submit(task=tasks[1], user=ann1, label=labels["Boots"])
    change = taxonomy_add_child(dataset=dataset, parent=labels["Audio"], name="Headphones", user=lead)
    assert change.target.path == "Shop > Audio > Headphones"
    assert change.counts == {"sent_to_review": 1}
    assert list(Task.objects.filter(needs_review=True).values_list("pk", flat=True)) == [tasks[0].pk]


def test_a_child_of_an_inner_node_sends_nothing_to_review(shop):
    dataset, labels, _, _, _, lead = shop
    change = taxonomy_add_child(dataset=dataset, parent=labels["Shoes"], name="Sandals", user=lead)
    assert change.counts == {"sent_to_review": 0}


def test_a_dataset_with_fixed_answers_refuses_taxonomy_changes(db):
    dataset = MatchingDatasetFactory()
    label = Label.objects.filter(dataset=dataset).first()
    with pytest.raises(ApplicationError, match="only categorization datasets"):
        taxonomy_rename(dataset=dataset, label=label, name="same", user=member(dataset, "lead", "lead"))
    assert not TaxonomyChange.objects.exists()


def test_the_tree_counts_answers_gold_and_open_suggestions_per_node_and_subtree(shop):
    dataset, labels, tasks, ann1, ann2, _ = shop
    annotation_submit(task=tasks[0], user=ann1, label=labels["Boots"])
    annotation_submit(task=tasks[0], user=ann2, label=labels["Sneakers"])
    Task.objects.filter(pk=tasks[1].pk).update(
        is_gold=True, gold_label=labels["Boots"], suggestions=[[labels["Audio"].pk, 0.9]]
    )
    nodes = {node["label"].path: node for node in taxonomy_tree(dataset=dataset)}
    assert nodes["Shop > Shoes > Boots"]["own"] == {"answers": 1, "gold": 1, "suggestions": 0}
    assert nodes["Shop > Shoes"]["total"] == {"answers": 2, "gold": 1, "suggestions": 0}
    assert nodes["Shop"]["total"] == {"answers": 2, "gold": 1, "suggestions": 1}
    assert nodes["Shop > Audio"]["leaf"] and not nodes["Shop > Shoes"]["leaf"]


def test_an_export_after_a_rename_and_a_merge_shows_the_new_paths(shop, tmp_path):
    dataset, labels, tasks, ann1, ann2, lead = shop
    Task.objects.filter(dataset=dataset).update(is_complete=False)
    for task, label in ((tasks[0], labels["Boots"]), (tasks[1], labels["Audio"])):
        annotation_submit(task=task, user=ann1, label=label)
        annotation_submit(task=task, user=ann2, label=label)
    taxonomy_merge(dataset=dataset, source=labels["Boots"], target=labels["Sneakers"], user=lead)
    taxonomy_rename(dataset=dataset, label=labels["Shoes"], name="Footwear", user=lead)
    out = tmp_path / "export.jsonl"
    call_command("export_dataset", dataset=str(dataset.pk), format="jsonl", out=str(out), stdout=io.StringIO())
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(row["label"] for row in rows) == ["Shop > Audio", "Shop > Footwear > Sneakers"]


def test_the_annotators_search_and_tree_follow_a_rename_and_leave_out_a_deprecated_label(shop):
    dataset, labels, _, _, _, lead = shop
    assert [label.path for label in label_search_ranked(dataset=dataset, query="sneeker")][:1] == [
        "Shop > Shoes > Sneakers"
    ]

    taxonomy_rename(dataset=dataset, label=labels["Shoes"], name="Footwear", user=lead)
    taxonomy_deprecate(dataset=dataset, label=labels["Boots"], user=lead)

    # The search index is cached per process and keyed by the taxonomy's last change: both changes reach it.
    assert [label.path for label in label_search_ranked(dataset=dataset, query="sneeker")][:1] == [
        "Shop > Footwear > Sneakers"
    ]
    assert "Boots" not in [label.name for label in label_search_ranked(dataset=dataset, query="boots")]
    assert [label.name for label in label_children(dataset=dataset, parent_id=labels["Shoes"].pk)] == ["Sneakers"]
