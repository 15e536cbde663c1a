"""Entity-level precision, recall and F1 of spans, against a hand count and spaCy's own scorer."""

import pytest
import spacy
from spacy.scorer import get_ner_prf
from spacy.training import Example

from models_app.ml.span_metrics import span_prf

TEXTS = ["Acme Pro blender red", "Zenta kettle 1.5 L blue"]
GOLD = [[(0, 8, "BRAND"), (17, 20, "COLOR")], [(0, 5, "BRAND"), (13, 18, "SIZE"), (19, 23, "COLOR")]]
# Found: Acme Pro, red, Zenta. Missed: 1.5 L (predicted as "L" alone), blue (predicted as a BRAND).
PREDICTED = [[(0, 8, "BRAND"), (17, 20, "COLOR")], [(0, 5, "BRAND"), (17, 18, "SIZE"), (19, 23, "BRAND")]]


def test_figures_match_a_hand_count():
    figures = span_prf(GOLD, PREDICTED)
    # 3 found of 5 gold and 5 predicted: P = R = F1 = 0.6.
    assert figures["micro"] == {"precision": 0.6, "recall": 0.6, "f1": 0.6, "support": 5, "predicted": 5}
    # BRAND: 2 found, 2 gold, 3 predicted -> P 2/3, R 1, F1 0.8. COLOR: 1 of 2, 1 predicted -> F1 2/3. SIZE: 0.
    assert figures["per_label"]["BRAND"] == {"precision": 0.6667, "recall": 1.0, "f1": 0.8, "support": 2,
                                             "predicted": 3}
    assert figures["per_label"]["COLOR"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2,
                                             "predicted": 1}
    assert figures["per_label"]["SIZE"]["f1"] == 0.0 and figures["documents"] == 2


def test_figures_match_spacys_scorer():
    nlp = spacy.blank("en")
    examples = []
    for text, gold, predicted in zip(TEXTS, GOLD, PREDICTED, strict=True):
        reference, guess = nlp.make_doc(text), nlp.make_doc(text)
        reference.ents = [reference.char_span(s, e, label=label) for s, e, label in gold]
        guess.ents = [guess.char_span(s, e, label=label) for s, e, label in predicted]
        examples.append(Example(guess, reference))
    theirs = get_ner_prf(examples)
    ours = span_prf(GOLD, PREDICTED)
    assert ours["micro"]["f1"] == pytest.approx(theirs["ents_f"], abs=1e-4)
    assert ours["micro"]["precision"] == pytest.approx(theirs["ents_p"], abs=1e-4)
    for label, figures in theirs["ents_per_type"].items():
        assert ours["per_label"][label]["f1"] == pytest.approx(figures["f"], abs=1e-4), label


def test_nothing_predicted_and_nothing_to_find_are_zeros_and_unused_labels_are_left_out():
    assert span_prf([[(0, 4, "BRAND")]], [[]])["micro"] == {
        "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "predicted": 0
    }
    assert span_prf([[]], [[]]) == {
        "micro": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0, "predicted": 0},
        "per_label": {}, "documents": 1,
    }


def test_documents_must_pair_up():
    with pytest.raises(ValueError, match="2 gold documents but 1 predicted"):
        span_prf(GOLD, PREDICTED[:1])
