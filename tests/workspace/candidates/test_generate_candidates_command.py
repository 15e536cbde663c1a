import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from labeling.models import Task
from workspace.models import CandidateRun

pytestmark = pytest.mark.django_db


def generate(*argv: str) -> tuple[list[str], dict]:
    out = StringIO()
    call_command("generate_candidates", *argv, stdout=out)
    lines = out.getvalue().strip().splitlines()
    return lines, json.loads(lines[-1])


def test_generates_here_printing_progress_and_the_report(shops):
    lines, report = generate(
        "--dataset",
        "offers",
        "--k",
        "3",
        "--fields",
        "title,brand",
        "--min-similarity",
        "0.3",
        "--keys",
        "model,gtin",
        "--source-field",
        "shop",
        "--skip-same-source",
    )
    run = CandidateRun.objects.get()
    assert run.status == "succeeded" and run.params["keys"] == ["model", "gtin"] and run.params["skip_same_source"]
    assert report["run"] == run.pk and report["new_pairs"] == Task.objects.filter(dataset=shops.dataset).count() > 20
    assert {"  read: 100%", "  block: 100%", "  write: 100%"} <= set(lines)

    _, again = generate(
        "--dataset",
        str(shops.dataset.pk),
        "--k",
        "3",
        "--source-field",
        "shop",
        "--skip-same-source",
        "--keys",
        "model,gtin",
    )
    assert (again["new_pairs"], again["existing_pairs"]) == (0, report["candidates"])


def test_bad_settings_and_failed_runs_are_command_errors(shops):
    with pytest.raises(CommandError, match="fields: choose among"):
        generate("--dataset", "offers", "--fields", "colour")
    with pytest.raises(CommandError, match="at least two sources"):
        generate("--dataset", "offers", "--source-field", "merchant", "--skip-same-source")
    assert CandidateRun.objects.get().status == "failed"
