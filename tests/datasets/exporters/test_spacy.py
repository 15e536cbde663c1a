import io

import pytest
from spacy.tokens import DocBin
from spacy.vocab import Vocab

from datasets.exporters import write_export

from .test_formats import LABELS, make_row, sample_rows


def read_docs(data):
    return list(DocBin().from_bytes(data).get_docs(Vocab()))


def test_spacy_docbin_reads_back_with_exclusive_cats():
    out = io.BytesIO()
    count = write_export(sample_rows(), out, fmt="spacy", labels=LABELS)
    docs = read_docs(out.getvalue())
    assert count == len(docs) == 2  # the unlabeled row is skipped
    assert docs[0].cats == {LABELS[0]: 1.0, LABELS[1]: 0.0, LABELS[2]: 0.0}
    assert [max(d.cats, key=d.cats.get) for d in docs] == [LABELS[0], LABELS[2]]


def test_spacy_keeps_unicode_text():
    out = io.BytesIO()
    write_export(sample_rows(), out, fmt="spacy", labels=LABELS)
    assert read_docs(out.getvalue())[1].text == "Crème brûlée torch — 日本製"


def test_spacy_requires_labels():
    with pytest.raises(ValueError, match="labels"):
        write_export(sample_rows(), io.BytesIO(), fmt="spacy")


def test_spacy_rejects_a_label_outside_labels():
    with pytest.raises(ValueError, match="not in"):
        write_export([make_row(label="Garden")], io.BytesIO(), fmt="spacy", labels=LABELS)


def test_spacy_bytes_do_not_depend_on_label_order():
    first, second = io.BytesIO(), io.BytesIO()
    write_export(sample_rows(), first, fmt="spacy", labels=LABELS)
    write_export(sample_rows(), second, fmt="spacy", labels=list(reversed(LABELS)))
    assert first.getvalue() == second.getvalue()
