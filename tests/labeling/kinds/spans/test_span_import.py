"""Prodigy span JSONL into a span dataset: each accepted example is its annotator's imported answer, its spans on
the title's tokens as the page would store them; what cannot land is a row error with its reason."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from config.errors import ApplicationError
from datasets.models import Role
from labeling.models import Annotation, LabelEvent, LabelSource
from tests.factories import DatasetFactory, member
from tests.labeling.kinds.spans.span_set import TITLES, span_dataset, span_task, type_id
from workspace.models import ImportKind, ImportRowError
from workspace.services.imports import import_job_create, import_job_run

pytestmark = pytest.mark.django_db

SONY, APPLE = TITLES[0][1], TITLES[1][1]  # "Sony WH-1000XM4 Wireless Headphones Black", "Apple iPhone 13 128GB Blue"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def example(external_id: str, text: str, spans: list[tuple[str, str]], answer: str = "accept", **extra) -> dict:
    """An example marking each (word, label) at its first place in the text, in characters only."""
    marked = [{"start": text.index(word), "end": text.index(word) + len(word), "label": label} for word, label in spans]
    return {"text": text, "spans": marked, "meta": {"external_id": external_id}, "answer": answer, **extra}


def jsonl(*examples: dict) -> bytes:
    return b"".join(json.dumps(e).encode() + b"\n" for e in examples)


def imported(dataset, content: bytes, **options):
    upload = SimpleUploadedFile("spans.jsonl", content)
    job = import_job_create(dataset=dataset, user=None, kind=ImportKind.PRODIGY_SPANS, file=upload, options=options)
    return import_job_run(job_id=job.pk)


def reasons(job) -> list[tuple[int, str]]:
    return list(ImportRowError.objects.filter(job=job).values_list("line", "reason"))


def answers(dataset) -> dict[tuple[str, str], list]:
    rows = Annotation.objects.filter(dataset=dataset).select_related("task__product", "value")
    return {(a.task.product.external_id, a.source_name): a.value.value for a in rows}


def test_accepted_examples_become_imported_answers_on_the_titles_tokens():
    dataset = span_dataset()
    brand, color = type_id(dataset, "BRAND"), type_id(dataset, "COLOR")
    content = jsonl(
        example("sku-1", SONY, [("Sony", "BRAND"), ("Black", "color")], _annotator_id="spans-alice"),
        example("sku-2", APPLE, [], _annotator_id="spans-bob"),
        example("sku-2", APPLE, [("Apple", "BRAND")]),
    )
    job = imported(dataset, content)
    assert (job.status, job.created_count, job.updated_count, job.label_count, job.error_count) == (
        "succeeded", 3, 0, 3, 0
    )
    last = SONY.split().index("Black")  # the title's words are its tokens
    assert answers(dataset) == {
        ("sku-1", "spans-alice"): [[0, 0, brand], [last, last, color]],
        ("sku-2", "spans-bob"): [],
        ("sku-2", "prodigy"): [[0, 0, brand]],
    }
    annotation = Annotation.objects.get(source_name="spans-alice")
    assert (annotation.user, annotation.source, annotation.label) == (None, LabelSource.IMPORT, None)
    assert span_task(dataset, "sku-2").annotation_count == 2
    assert "3 answers created, 0 updated, 0 rows rejected" in job.message


def test_importing_again_changes_nothing_and_a_changed_example_changes_its_answer():
    dataset = span_dataset()
    first = jsonl(example("sku-1", SONY, [("Sony", "BRAND")]))
    imported(dataset, first)
    again = imported(dataset, first)
    assert (again.created_count, again.updated_count, again.label_count) == (0, 1, 0)
    assert Annotation.objects.count() == 1 and LabelEvent.objects.filter(dataset=dataset).count() == 1

    changed = imported(dataset, jsonl(example("sku-1", SONY, [("Sony", "BRAND"), ("Black", "COLOR")])))
    assert (changed.created_count, changed.updated_count, changed.label_count) == (0, 1, 1)
    event = LabelEvent.objects.filter(dataset=dataset).latest("pk")
    assert (event.action, event.old_value.value, len(event.new_value.value)) == ("change", [[0, 0, type_id(
        dataset, "BRAND")]], 2)


def test_rejected_and_ignored_examples_are_skipped_not_errors():
    dataset = span_dataset()
    content = jsonl(example("sku-1", SONY, [("Sony", "BRAND")], answer="reject"), example("sku-2", APPLE, [],
                                                                                          answer="ignore"))
    job = imported(dataset, content)
    assert (job.status, job.created_count, job.error_count, job.lines_skipped) == ("succeeded", 0, 0, 2)
    assert not Annotation.objects.exists()


def test_rows_that_cannot_land_are_errors_with_their_reason_and_the_others_land():
    dataset = span_dataset()
    cut = {"text": SONY, "spans": [{"start": 0, "end": 2, "label": "BRAND"}], "meta": {"external_id": "sku-1"},
           "answer": "accept", "_annotator_id": "cutter"}
    content = jsonl(
        example("sku-9", SONY, [("Sony", "BRAND")]),
        example("sku-1", "Sony headphones", [("Sony", "BRAND")]),
        example("sku-2", APPLE, [("Apple", "MAKER")]),
        cut,
        example("sku-3", TITLES[2][1], [("Bosch", "BRAND")]),
    )
    job = imported(dataset, content)
    assert (job.status, job.created_count, job.error_count) == ("succeeded", 1, 4)
    lines = dict(reasons(job))
    assert lines[1] == "unknown product id 'sku-9'"
    assert "is not the title of 'sku-1'" in lines[2]
    assert "unknown span type 'MAKER'" in lines[3] and "BRAND" in lines[3]
    assert "token boundaries" in lines[4]
    assert list(answers(dataset)) == [("sku-3", "prodigy")]


def test_prodigys_own_token_numbers_need_not_be_ours():
    dataset = span_dataset()
    spans = [{"start": 0, "end": 4, "label": "BRAND", "token_start": 0, "token_end": 0}]
    tokens = [{"text": SONY[:4], "start": 0, "end": 4, "id": 0, "ws": True},
              {"text": SONY[5:], "start": 5, "end": len(SONY), "id": 1, "ws": False}]
    content = jsonl({"text": SONY, "tokens": tokens, "spans": spans, "meta": {"external_id": "sku-1"},
                     "answer": "accept"})
    assert imported(dataset, content).created_count == 1
    assert answers(dataset)[("sku-1", "prodigy")] == [[0, 0, type_id(dataset, "BRAND")]]


def test_a_span_dataset_refuses_one_label_a_product_files_and_another_kind_refuses_span_files():
    dataset = span_dataset()
    with pytest.raises(ApplicationError, match="answers are spans"):
        import_job_create(dataset=dataset, user=None, kind=ImportKind.PRODIGY,
                          file=SimpleUploadedFile("p.jsonl", b"{}\n"))
    with pytest.raises(ApplicationError, match="attribute spans dataset"):
        import_job_create(dataset=DatasetFactory(), user=None, kind=ImportKind.PRODIGY_SPANS,
                          file=SimpleUploadedFile("s.jsonl", b"{}\n"))


def test_the_imports_api_takes_a_prodigy_span_file():
    dataset = span_dataset()
    api = APIClient()
    api.force_authenticate(dataset.memberships.get(role=Role.LEAD).user)
    upload = SimpleUploadedFile("spans.jsonl", jsonl(example("sku-1", SONY, [("Sony", "BRAND")])))
    response = api.post(reverse("api-import-list", args=[dataset.pk]), {"kind": "prodigy_spans", "file": upload})
    assert response.status_code in (201, 202), response.json()
    job = import_job_run(job_id=response.json()["id"])
    assert (job.status, job.label_count) == ("succeeded", 1)


def test_the_upload_page_offers_and_starts_a_prodigy_span_file(client):
    dataset = span_dataset()
    client.force_login(member(dataset, "lead", Role.LEAD))
    page = client.get(reverse("workspace:detail", args=[dataset.pk])).content.decode()
    offered = page[page.index('name="kind"') : page.index("</select>", page.index('name="kind"'))]
    assert f'value="{ImportKind.PRODIGY_SPANS}"' in offered and f'value="{ImportKind.PRODIGY}"' not in offered
    upload = SimpleUploadedFile("spans.jsonl", jsonl(example("sku-1", SONY, [("Sony", "BRAND")])))
    response = client.post(reverse("workspace:import-upload", args=[dataset.pk]),
                           {"kind": ImportKind.PRODIGY_SPANS, "file": upload})
    job = dataset.import_jobs.get()
    assert response["Location"] == reverse("workspace:import-detail", args=[job.pk])
    assert import_job_run(job_id=job.pk).label_count == 1


def test_the_import_spans_command_lands_the_file(tmp_path):
    dataset = span_dataset()
    path = tmp_path / "spans.jsonl"
    path.write_bytes(jsonl(example("sku-1", SONY, [("Sony", "BRAND")])))
    out = io.StringIO()
    call_command("import_spans", str(path), dataset=str(dataset.pk), label_source="vendor", stdout=out)
    assert json.loads(out.getvalue())["labels"] == 1
    assert list(answers(dataset)) == [("sku-1", "vendor")]
