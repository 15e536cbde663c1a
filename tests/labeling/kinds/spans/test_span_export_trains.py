"""Issue 14's "done when": a span dataset's `.spacy` export, made through the export service as a lead gets it,
trains with `spacy train` as it is (one epoch, blank English, CPU, offline)."""

import subprocess
import sys
from pathlib import Path

import pytest
from spacy import load as spacy_load

from labeling.kinds.spans.tokens import tokenize
from labeling.services import annotation_submit
from tests.factories import member
from tests.labeling.kinds.spans.span_set import span_dataset, span_task, type_id
from workspace.services.export_params import export_params_clean
from workspace.services.exports import export_write

pytestmark = pytest.mark.django_db

def spacy(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spacy", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_the_spacy_ner_export_trains_an_epoch_and_writes_a_model(tmp_path):
    dataset = span_dataset()
    user = member(dataset, "marker")
    brand, color = type_id(dataset, "BRAND"), type_id(dataset, "COLOR")
    # Each of the fixture's titles starts with its brand and ends with a color.
    for external_id in ("sku-1", "sku-2", "sku-3"):
        task = span_task(dataset, external_id)
        last = len(tokenize(task.product.title)) - 1
        annotation_submit(task=task, user=user, label=None, value=[[0, 0, brand], [last, last, color]])
    export = tmp_path / "spans.spacy"
    with export.open("wb") as out:
        params = export_params_clean(dataset=dataset, fmt="spacy_ner", policy="majority")
        assert export_write(dataset=dataset, params=params, out=out).rows == 3

    made = spacy("init", "config", "config.cfg", "--pipeline", "ner", "--lang", "en", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    trained = spacy(
        "train", "config.cfg", "--output", "out", "--paths.train", export.name, "--paths.dev", export.name,
        "--training.max_epochs", "1", cwd=tmp_path,
    )
    assert trained.returncode == 0, trained.stdout + trained.stderr
    nlp = spacy_load(tmp_path / "out" / "model-last")
    assert nlp.get_pipe("ner").labels == ("BRAND", "COLOR")
