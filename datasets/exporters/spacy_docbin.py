"""spaCy `DocBin` (`.spacy`) for textcat training: the title as the text, the label in `doc.cats`.

Memory limitation: a DocBin file is one zlib-compressed msgpack blob, so it cannot be streamed - every
doc stays in memory until `to_bytes()` at the end. This writer is therefore acceptable only for
bounded chunks; a large export must be split into several `.spacy` files (spaCy's training corpus
reader accepts a directory of them). Rows without a label are skipped: textcat needs a gold class.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import BinaryIO

from .common import Row


def cats_template(labels: Sequence[str] | None) -> dict[str, float]:
    """Every taxonomy path at 0.0, sorted so the bytes do not depend on the caller's label order."""
    if labels is None:
        raise ValueError("The spacy format needs `labels`: every taxonomy path, for exclusive classes.")
    return dict.fromkeys(sorted(set(labels)), 0.0)


def write_spacy(rows: Iterable[Row], out: BinaryIO, labels: Sequence[str] | None) -> int:
    """Write the labeled rows as one DocBin; returns the number of docs written (unlabeled rows excluded)."""
    template = cats_template(labels)
    # Imported here so the other formats work without loading spaCy.
    import spacy
    from spacy.tokens import DocBin

    nlp = spacy.blank("en")
    # store_user_data=False: nothing outside text and cats reaches the file, keeping it deterministic.
    doc_bin = DocBin(store_user_data=False)
    count = 0
    for row in rows:
        label = row.get("label")
        if not label:
            continue
        if label not in template:
            raise ValueError(f"Row {row.get('external_id')!r} has label {label!r}, which is not in `labels`.")
        doc = nlp.make_doc(row.get("title") or "")  # tokenizer only: textcat needs no other pipes
        doc.cats = {**template, label: 1.0}
        doc_bin.add(doc)
        count += 1
    out.write(doc_bin.to_bytes())
    return count
