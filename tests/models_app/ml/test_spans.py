"""The span tagger: it learns an easy pattern, is the same for a seed, reads back from bytes, ranks by doubt."""

import random

import pytest

from models_app.ml.artifacts import ArtifactError
from models_app.ml.config import ConfigError, TrainingError
from models_app.ml.spans import (
    PredictedSpan,
    SpanConfig,
    SpanExample,
    SpanModel,
    holdout_split,
    train_and_measure,
    train_spans,
)

LABELS = ("BRAND", "COLOR", "SIZE")
BRANDS = ("Acme", "Zenta", "Borva", "Kilo", "Nordix", "Vanta")
NOUNS = ("kettle", "blender", "mug", "lamp", "backpack", "jacket")
COLORS = ("red", "blue", "green", "black", "white")
SIZES = ("1.5 L", "500 ml", "XL", "42 cm")


def generated(count: int, seed: int = 7) -> list[SpanExample]:
    """Titles "<brand> <noun>, <color> <size>" (the size sometimes left out), with their spans."""
    rng = random.Random(seed)
    examples = []
    for _ in range(count):
        brand, noun, color, size = (rng.choice(values) for values in (BRANDS, NOUNS, COLORS, SIZES))
        text = f"{brand} {noun}, {color}"
        spans = [(0, len(brand), "BRAND"), (len(text) - len(color), len(text), "COLOR")]
        if rng.random() < 0.7:
            spans.append((len(text) + 1, len(text) + 1 + len(size), "SIZE"))
            text += f" {size}"
        examples.append(SpanExample(text, tuple(spans)))
    return examples


QUICK = SpanConfig(epochs=2, seed=3)


@pytest.fixture(scope="module")
def trained():
    return train_and_measure(generated(120), labels=LABELS, config=SpanConfig(epochs=8, seed=1, holdout=0.25))


def test_it_learns_an_easy_pattern_measured_on_the_holdout(trained):
    metrics = trained.metrics
    print(f"span tagger after 8 epochs on 90 titles: micro F1 {metrics['micro']['f1']} on 30 held out,",
          {label: figures["f1"] for label, figures in metrics["per_label"].items()})
    assert trained.split == {"n": 120, "train": 90, "holdout": 30, "seed": 1,
                             "holdout_ids": trained.split["holdout_ids"]}
    assert metrics["documents"] == 30 and metrics["micro"]["f1"] > 0.6
    assert set(metrics["per_label"]) == set(LABELS)


def test_predictions_are_character_spans_with_prodigys_token_range(trained):
    (prediction,) = trained.model.predict(["Zenta mug, red 500 ml"])
    assert PredictedSpan(0, 5, "BRAND", 0, 0) in prediction.spans
    assert all(0 <= s.start < s.end <= 21 and s.token_start <= s.token_end for s in prediction.spans)
    assert 0.0 <= prediction.uncertainty <= 1.0


def test_an_unseen_kind_of_title_is_more_uncertain_than_a_familiar_one(trained):
    familiar, odd = trained.model.predict(["Kilo lamp, green XL", "42 cm XL green Kilo red lamp 500 ml Vanta blue"])
    assert odd.uncertainty > familiar.uncertainty


def test_an_undertrained_tagger_doubts_more_than_a_trained_one(trained):
    texts = [example.text for example in generated(20, seed=11)]
    early = train_spans(generated(30), labels=LABELS, config=SpanConfig(epochs=1, seed=1))
    mean = lambda model: sum(p.uncertainty for p in model.predict(texts)) / len(texts)  # noqa: E731
    assert mean(early) > mean(trained.model)


def test_the_same_seed_trains_the_same_tagger_and_another_seed_another():
    examples = generated(40)
    first, again = (train_spans(examples, labels=LABELS, config=QUICK) for _ in range(2))
    other = train_spans(examples, labels=LABELS, config=SpanConfig(epochs=2, seed=4))
    texts = [example.text for example in generated(10, seed=5)]
    assert first.to_bytes() == again.to_bytes()
    assert first.predict(texts) == again.predict(texts)
    assert first.to_bytes() != other.to_bytes()


def test_the_tagger_reads_back_from_its_bytes_with_its_config(trained):
    data = trained.model.to_bytes()
    loaded = SpanModel.from_bytes(data)
    texts = [example.text for example in generated(10, seed=9)] + [""]
    assert loaded.predict(texts) == trained.model.predict(texts)
    assert loaded.config == trained.model.config and loaded.labels == LABELS
    assert loaded.predict([""])[0].spans == () and loaded.predict([""])[0].uncertainty == 0.0


@pytest.mark.parametrize("data", [b"", b"SHELFMARK-PIPELINE\n{}\n", b"SHELFMARK-SPANS\n{not json\n"])
def test_other_bytes_are_refused(data):
    with pytest.raises(ArtifactError):
        SpanModel.from_bytes(data)


@pytest.mark.parametrize(
    ("examples", "message"),
    [
        ([], "no marked texts"),
        ([SpanExample("Acme mug", ((0, 3, "BRAND"),))], r"example 0: span 0-3 \('Acm'\) does not fall on spaCy's"),
        ([SpanExample("Acme mug", ((0, 4, "MATERIAL"),))], "marks 'MATERIAL', which is not one of the labels"),
        ([SpanExample("Acme mug", ((0, 8, "BRAND"), (5, 8, "COLOR")))], "example 0: its spans overlap"),
    ],
)
def test_examples_that_cannot_train_are_refused(examples, message):
    with pytest.raises(TrainingError, match=message):
        train_spans(examples, labels=LABELS, config=QUICK)


@pytest.mark.parametrize(
    ("change", "message"),
    [({"epochs": 0}, "epochs"), ({"beam_width": 1}, "beam_width"), ({"dropout": 1.0}, "dropout"),
     ({"batch_start": 64.0}, "batch sizes"), ({"holdout": 0.9}, "holdout"), ({"epoch": 3}, "epoch")],
)
def test_a_bad_config_is_refused(change, message):
    with pytest.raises(ConfigError, match=message):
        SpanConfig.from_dict(change)


def test_the_holdout_is_seeded_and_leaves_one_to_train_on():
    train, holdout = holdout_split(10, fraction=0.2, seed=0)
    assert len(holdout) == 2 and sorted([*train, *holdout]) == list(range(10))
    assert holdout.tolist() == holdout_split(10, fraction=0.2, seed=0)[1].tolist()
    assert [len(part) for part in holdout_split(1, fraction=0.5, seed=0)] == [1, 0]
