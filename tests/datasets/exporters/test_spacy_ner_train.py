"""The spacy_ner export trains with `spacy train` as it is (issue 14's "done when"): a 1-epoch run on a small one."""

import io
import subprocess
import sys
from pathlib import Path

from spacy import load as spacy_load

from datasets.exporters import write_export

from .span_rows import span

BRANDS = ("Acme", "Zenta", "Borva", "Kilo")
COLORS = ("red", "blue", "green", "black")


def titles(count: int) -> list[dict]:
    rows = []
    for i in range(count):
        brand, color = BRANDS[i % 4], COLORS[i // 4 % 4]
        text = f"{brand} kettle in {color}, 1.5 L"
        at = text.index(color)
        rows.append({"external_id": f"sku-{i}", "text": text, "split": "train",
                     "spans": [span(0, len(brand), "BRAND"), span(at, at + len(color), "COLOR")]})
    return rows


def write(path: Path, rows: list[dict]) -> None:
    out = io.BytesIO()
    assert write_export(rows, out, fmt="spacy_ner") == len(rows)
    path.write_bytes(out.getvalue())


def spacy(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spacy", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_spacy_train_runs_an_epoch_on_the_export_and_writes_model_last(tmp_path):
    rows = titles(24)
    write(tmp_path / "train.spacy", rows[:16])
    write(tmp_path / "dev.spacy", rows[16:])
    # spaCy's own default NER config (blank English, tok2vec + ner), made offline.
    made = spacy("init", "config", "config.cfg", "--pipeline", "ner", "--lang", "en", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    trained = spacy(
        "train", "config.cfg", "--output", "out", "--paths.train", "train.spacy", "--paths.dev", "dev.spacy",
        "--training.max_epochs", "1", "--training.eval_frequency", "1", cwd=tmp_path,
    )
    assert trained.returncode == 0, trained.stdout + trained.stderr
    nlp = spacy_load(tmp_path / "out" / "model-last")
    assert nlp.pipe_names == ["tok2vec", "ner"] and nlp.get_pipe("ner").labels == ("BRAND", "COLOR")
