"""What a span tagger reads of a span dataset: the resolved answers as titles with character spans and type
codes, and the open titles by pages."""

import pytest

from datasets.models import Product
from labeling.kinds.spans.training import marked_titles, open_titles
from labeling.services import annotation_submit
from tests.factories import member
from tests.labeling.kinds.spans.span_set import span_dataset, span_task, type_id

pytestmark = pytest.mark.django_db


def test_resolved_answers_are_titles_with_character_spans_of_the_types_codes():
    dataset = span_dataset()
    user = member(dataset, "marker")
    brand, color = type_id(dataset, "BRAND"), type_id(dataset, "COLOR")
    annotation_submit(task=span_task(dataset, "sku-2"), user=user, label=None, value=[[0, 0, brand], [5, 5, color]])
    annotation_submit(task=span_task(dataset, "sku-3"), user=user, label=None, value=[])

    [apple, bosch] = marked_titles(dataset=dataset)

    assert apple.text == "Apple iPhone 13 128GB Blue" and apple.spans == ((0, 5, "BRAND"), (22, 26, "COLOR"))
    assert (bosch.task_id, bosch.spans) == (span_task(dataset, "sku-3").pk, ())
    pages = list(open_titles(dataset=dataset, page_size=1))
    assert [page.texts for page in pages] == [["Sony WH-1000XM4 Wireless Headphones Black"]]


def test_a_title_changed_under_its_answer_is_left_out():
    dataset = span_dataset()
    annotation_submit(task=span_task(dataset, "sku-2"), user=member(dataset, "marker"), label=None,
                      value=[[5, 5, type_id(dataset, "COLOR")]])
    Product.objects.filter(dataset=dataset, external_id="sku-2").update(title="Apple iPhone")

    assert marked_titles(dataset=dataset) == []
