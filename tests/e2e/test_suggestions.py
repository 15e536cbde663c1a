"""After a training run, the annotator sees the model's suggestions and key 1 picks the first one."""

import pytest

from labeling.models import Annotation, Task
from models_app.services.training import model_version_train, training_request
from tests.conftest import log_in
from tests.factories import DatasetFactory, LabelFactory, ProductFactory, TaskFactory, member

KINDS = {"Audio": "headphones", "Phones": "smartphone", "Shoes": "sneakers"}


@pytest.mark.browser
def test_suggestions_appear_and_key_1_submits_the_first(page, transactional_db):
    dataset = DatasetFactory(name="Suggested shop", retrain_every=0)
    for name, word in KINDS.items():
        label = LabelFactory(dataset=dataset, name=name, path=f"Shop > {name}")
        for i in range(10):
            task = TaskFactory(dataset=dataset, product=ProductFactory(dataset=dataset, title=f"Acme {word} {i}"))
            if i < 8:
                Annotation.objects.create(dataset=dataset, task=task, label=label, source="import", source_name="seed")
                Task.objects.filter(pk=task.pk).update(annotation_count=1, is_complete=True)
    # Trained here, not sent to a worker: a worker thread left by an earlier test would race this run for it.
    model_version_train(version_id=training_request(dataset=dataset, enqueue=False).pk)
    annotator = member(dataset, "ann")

    log_in(page, "ann")
    page.goto(f"/datasets/{dataset.pk}/annotate/")
    page.wait_for_selector("#task-panel[data-ready='true']")
    task_id = int(page.get_attribute("#task-panel", "data-task-id"))
    first = page.get_attribute("#shortcut-1.suggestion", "data-label-id")
    assert page.locator("#shortcuts .suggestion").count() == 3
    assert int(first) == Task.objects.get(pk=task_id).suggestions[0][0]

    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#task-panel[data-ready='true']:not([data-task-id='{task_id}'])")

    annotation = Annotation.objects.get(user=annotator, task_id=task_id)
    assert (annotation.label_id, annotation.suggestions_shown) == (int(first), True)
