"""spaCy `DocBin` (`.spacy`) for NER training: the text's tokens, its spans as `doc.ents` and `doc.spans["sc"]`.

`spacy train` with an `ner` component reads `doc.ents`; a `spancat` one reads `doc.spans["sc"]` (its default
key), so one file trains either. Rows without spans (not annotated) are skipped. The docs are built from the
tokens the annotator saw (see `span_rows`), so the entities fall where they were marked.

Memory limitation, as for `spacy_docbin`: a DocBin is one compressed blob written at the end, so it cannot
be streamed. Rows are read and tokenized `span_rows.CHUNK_ROWS` at a time and each Doc is reduced to the
DocBin's token arrays as it is added, so what stays in memory is those arrays (some bytes per token), not the
rows or Docs; a very large export is better split into several `.spacy` files (spaCy's corpus reader takes a
directory of them).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO

from .common import Row
from .span_rows import span_docs

SPANS_KEY = "sc"  # spancat's default spans_key


def write_spacy_ner(rows: Iterable[Row], out: BinaryIO) -> int:
    """Write the annotated rows as one DocBin; returns the number of docs written."""
    # Imported here so the other formats work without loading spaCy.
    from spacy.tokens import Doc, DocBin
    from spacy.vocab import Vocab

    vocab = Vocab()
    # store_user_data=False: nothing outside the text and the spans reaches the file, keeping it deterministic.
    doc_bin = DocBin(attrs=["ENT_IOB", "ENT_TYPE"], store_user_data=False)
    count = 0
    for item in span_docs(rows):
        doc = Doc(vocab, words=[t["text"] for t in item.tokens], spaces=[t["ws"] for t in item.tokens])
        spans = []
        for span in item.spans:
            found = doc.char_span(span["start"], span["end"], label=span["label"], alignment_mode="strict")
            if found is None:  # span_docs checked the boundaries: this would be a tokenization mismatch
                raise ValueError(
                    f"{item.name}: span {span['start']}-{span['end']} does not align with "
                    "spaCy's tokens."
                )
            spans.append(found)
        doc.ents = spans
        doc.spans[SPANS_KEY] = spans
        doc_bin.add(doc)
        count += 1
    out.write(doc_bin.to_bytes())
    return count
