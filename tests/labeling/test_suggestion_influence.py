import pytest

from labeling.label_stats import suggestion_influence
from labeling.models import Annotation, Task
from tests.factories import DatasetFactory, LabelFactory, TaskFactory, member

pytestmark = pytest.mark.django_db


def answer(task: Task, user, label, *, shown: bool) -> None:
    Annotation.objects.create(dataset=task.dataset, task=task, user=user, label=label, suggestions_shown=shown)


def test_agreement_is_split_by_whether_suggestions_were_shown_and_ties_have_no_majority():
    dataset = DatasetFactory(overlap=2)
    right, wrong = LabelFactory(dataset=dataset), LabelFactory(dataset=dataset)
    a, b, c = member(dataset, "a"), member(dataset, "b"), member(dataset, "c")
    gold = TaskFactory(dataset=dataset, is_gold=True, gold_label=right)
    answer(gold, a, right, shown=True)
    answer(gold, b, wrong, shown=False)
    plain = TaskFactory(dataset=dataset)
    answer(plain, a, right, shown=True)
    answer(plain, b, right, shown=False)
    answer(plain, c, wrong, shown=False)

    influence = suggestion_influence(dataset=dataset)

    assert influence["shown"] == {"answers": 2, "gold_accuracy": 1.0, "majority_agreement": 1.0}
    assert influence["hidden"] == {"answers": 3, "gold_accuracy": 0.0, "majority_agreement": 0.5}


def test_no_answers_give_no_figures():
    influence = suggestion_influence(dataset=DatasetFactory())
    assert influence["hidden"] == {"answers": 0, "gold_accuracy": None, "majority_agreement": None}
