"""A span tagger for attribute extraction (issue 14): spaCy's NER trained on marked product titles.

`spacy.blank("en")` and an `ner` component (spaCy's default tok2vec and transition-based parser, on the CPU),
trained for a fixed number of epochs over a shuffle seeded by the config, in minibatches of compounding
size. spaCy's `fix_random_seed` seeds the weights and the dropout, so the same examples and config train
the same model on one machine (BLAS may still round differently elsewhere).

Uncertainty, for the queue: the greedy `ner` keeps no scores, but the same weights can be run as a beam
(`beam_parse`, the beam NER's search without training one). `get_beam_parses` gives the probability of each
parse in the beam, so each token gets the probability of each tag (B-, I- of a label, or O) summed over
the parses, and each predicted span the probability of the parses that hold it; a token's margin is the top tag's
probability less the runner-up's. A title's uncertainty is 1 - its smallest token margin: the least sure token,
since one doubtful attribute is what a person is needed for, and a mean would let long titles hide it. The
probabilities are relative to the parses in the beam, so they are a ranking signal, not calibrated probabilities.
(The alternative, the agreement of a few predictions with dropout on, costs one parse per vote and gives coarser
values.)
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from .artifacts import ArtifactError
from .config import ConfigError, TrainingError, _from_mapping, _holdout_check
from .span_metrics import Span, span_prf

MAGIC = b"SHELFMARK-SPANS\n"
FORMAT_VERSION = 1
# One BLAS thread, as the other trainings: the machine's cores are shared with the web and other workers.
THREADS = 1


@dataclass(frozen=True)
class SpanConfig:
    """How a span dataset's tagger is trained.

    epochs: passes over the examples; dropout: of the layers during training; batch_start / batch_stop /
    batch_compound: minibatch sizes grow from start to stop by this factor a batch (spaCy's `compounding`);
    seed: of the weights, the dropout and the shuffle; beam_width: parses kept to score the uncertainty (at
    least 2: a beam of one has nothing to compare); holdout: fraction of the examples held out to measure.
    """

    epochs: int = 20
    dropout: float = 0.2
    batch_start: float = 4.0
    batch_stop: float = 32.0
    batch_compound: float = 1.001
    seed: int = 0
    beam_width: int = 16
    holdout: float = 0.2

    def __post_init__(self) -> None:
        for name, low in (("epochs", 1), ("seed", 0), ("beam_width", 2)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f"{name} must be a whole number of at least {low}, got {value!r}")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, int | float) or not 0 <= self.dropout < 1:
            raise ConfigError(f"dropout must be a fraction in [0, 1), got {self.dropout!r}")
        if not 1 <= self.batch_start <= self.batch_stop or self.batch_compound < 1:
            raise ConfigError("batch sizes must grow: 1 <= batch_start <= batch_stop and batch_compound >= 1")
        _holdout_check(self.holdout)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SpanConfig:
        """Build and validate a config; missing keys take the defaults, unknown keys raise ConfigError."""
        return _from_mapping(cls, data, "span config")


@dataclass(frozen=True, slots=True)
class SpanExample:
    text: str
    spans: tuple[Span, ...]  # (start, end, label) in characters, on token boundaries, none overlapping


@dataclass(frozen=True, slots=True)
class PredictedSpan:
    start: int
    end: int
    label: str
    token_start: int  # inclusive, as Prodigy writes them
    token_end: int
    # The share of the beam's probability on parses holding this very span (0.0 when none does): a ranking
    # signal as the uncertainty is. Left out of equality: the span is the same whatever the beam said of it.
    probability: float | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class SpanPrediction:
    spans: tuple[PredictedSpan, ...]
    uncertainty: float  # 1 - the smallest token margin, in [0, 1]; 0 for a text without tokens


@dataclass
class SpanTrainResult:
    """The tagger trained on the training part, and its figures on the holdout (`span_prf`, or None when
    nothing was held out); split: {"n", "train", "holdout", "seed", "holdout_ids" (indices into the input)}."""

    model: SpanModel
    metrics: dict | None
    split: dict = field(default_factory=dict)


class SpanModel:
    """A trained tagger: `predict` marks texts; `to_bytes` / `from_bytes` carry it between worker and storage."""

    def __init__(self, nlp: Any, config: SpanConfig) -> None:
        self.nlp = nlp
        self.config = config

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.nlp.get_pipe("ner").labels)

    def predict(self, texts: Sequence[str], *, batch_size: int = 256) -> list[SpanPrediction]:
        """The spans of each text (the greedy parse) and its uncertainty (from the beam, see the module)."""
        ner = self.nlp.get_pipe("ner")
        predictions: list[SpanPrediction] = []
        with threadpool_limits(limits=THREADS):
            for start in range(0, len(texts), batch_size):
                docs = list(self.nlp.pipe(texts[start : start + batch_size]))
                scores = _beam_scores(ner, docs, self.config.beam_width)
                predictions += [
                    SpanPrediction(tuple(_predicted(doc, found)), round(1.0 - margin, 6))
                    for doc, (margin, found) in zip(docs, scores, strict=True)
                ]
        return predictions

    def to_bytes(self) -> bytes:
        """MAGIC, a JSON header line (format, spaCy version, our config and spaCy's), then spaCy's bytes."""
        import spacy

        header = {"format": FORMAT_VERSION, "kind": "spans", "spacy": spacy.__version__,
                  "config": self.config.to_dict(), "nlp_config": self.nlp.config.to_str()}
        return MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + self.nlp.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> SpanModel:
        """The tagger `to_bytes` wrote; ArtifactError for other bytes or another format."""
        from spacy.util import get_lang_class
        from thinc.api import Config

        end = data.find(b"\n", len(MAGIC)) if data.startswith(MAGIC) else -1
        if end < 0:
            raise ArtifactError("not a Shelfmark span model (missing header)")
        try:
            header = json.loads(data[len(MAGIC) : end])
            nlp_config = Config().from_str(header["nlp_config"])
            config = SpanConfig.from_dict(header["config"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ArtifactError(f"unreadable span model header: {exc}") from exc
        if header.get("format") != FORMAT_VERSION:
            raise ArtifactError(f"span model format {header.get('format')!r}; this code reads {FORMAT_VERSION}")
        nlp = get_lang_class(nlp_config["nlp"]["lang"]).from_config(nlp_config)
        nlp.from_bytes(data[end + 1 :])
        return cls(nlp, config)


def train_spans(examples: Sequence[SpanExample], *, labels: Sequence[str], config: SpanConfig) -> SpanModel:
    """Train a tagger on every example; TrainingError when they cannot train one (none, a label outside
    `labels`, a span off spaCy's tokens or overlapping another)."""
    import spacy
    from spacy.training import Example
    from spacy.util import compounding, fix_random_seed, minibatch

    if not labels:
        raise TrainingError("a span tagger needs at least one label")
    if not examples:
        raise TrainingError("no marked texts to train on")
    fix_random_seed(config.seed)
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    for label in sorted(set(labels)):
        ner.add_label(label)
    known = frozenset(labels)
    train = [Example(nlp.make_doc(example.text), _reference(nlp, i, example, known))
             for i, example in enumerate(examples)]
    shuffle = random.Random(config.seed)
    with threadpool_limits(limits=THREADS):
        optimizer = nlp.initialize(lambda: train)
        for _ in range(config.epochs):
            order = list(train)
            shuffle.shuffle(order)
            sizes = compounding(config.batch_start, config.batch_stop, config.batch_compound)
            for batch in minibatch(order, size=sizes):
                nlp.update(batch, sgd=optimizer, drop=config.dropout, losses={})
    return SpanModel(nlp, config)


def train_and_measure(
    examples: Sequence[SpanExample], *, labels: Sequence[str], config: SpanConfig
) -> SpanTrainResult:
    """Hold out `config.holdout` of the examples (seeded), train on the rest and measure on them.

    The measured model is the one kept: refitting on every example would double a training for a tagger
    whose figures then describe another model.
    """
    train_ids, holdout_ids = holdout_split(len(examples), fraction=config.holdout, seed=config.seed)
    model = train_spans([examples[i] for i in train_ids], labels=labels, config=config)
    metrics = None
    if len(holdout_ids):
        held = [examples[i] for i in holdout_ids]
        predicted = model.predict([example.text for example in held])
        metrics = span_prf([example.spans for example in held],
                           [[(s.start, s.end, s.label) for s in p.spans] for p in predicted])
    split = {"n": len(examples), "train": len(train_ids), "holdout": len(holdout_ids), "seed": config.seed,
             "holdout_ids": [int(i) for i in holdout_ids]}
    return SpanTrainResult(model=model, metrics=metrics, split=split)


def holdout_split(n: int, *, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train positions, holdout positions): round(fraction * n) examples, seeded, held out; one at least
    stays for training."""
    take = max(min(n - 1, int(n * fraction + 0.5)), 0)
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[take:]), np.sort(order[:take])


def _reference(nlp: Any, i: int, example: SpanExample, known: frozenset[str]) -> Any:
    doc = nlp.make_doc(example.text)
    spans = []
    for start, end, label in example.spans:
        if label not in known:
            raise TrainingError(f"example {i} marks {label!r}, which is not one of the labels")
        span = doc.char_span(start, end, label=label, alignment_mode="strict")
        if span is None:
            raise TrainingError(
                f"example {i}: span {start}-{end} ({example.text[start:end]!r}) does not fall on spaCy's tokens"
            )
        spans.append(span)
    try:
        doc.ents = spans  # the tokens outside them become O: a marked title is fully annotated
    except ValueError as exc:
        raise TrainingError(f"example {i}: its spans overlap") from exc
    return doc


def _predicted(doc: Any, found: Mapping[tuple[int, int, str], float]) -> list[PredictedSpan]:
    return [
        PredictedSpan(e.start_char, e.end_char, e.label_, e.start, e.end - 1,
                      round(min(found.get((e.start, e.end, e.label_), 0.0), 1.0), 4))
        for e in doc.ents
    ]


def _beam_scores(ner: Any, docs: list[Any], beam_width: int) -> list[tuple[float, dict[tuple[int, int, str], float]]]:
    """Each doc's smallest token margin between its two likeliest tags over the beam's parses (1.0 without
    tokens), and the probability of each span the beam's parses hold ((token start, end exclusive, label) ->
    the sum over the parses holding it)."""
    scores: list[tuple[float, dict[tuple[int, int, str], float]]] = [(1.0, {}) for _ in docs]
    parsed = [i for i, doc in enumerate(docs) if len(doc)]
    if not parsed:
        return scores
    beams = ner.beam_parse([docs[i] for i in parsed], beam_width=beam_width, beam_density=0.0)
    for i, beam in zip(parsed, beams, strict=True):
        tags: list[defaultdict[str, float]] = [defaultdict(float) for _ in docs[i]]
        found: defaultdict[tuple[int, int, str], float] = defaultdict(float)
        for probability, ents in ner.moves.get_beam_parses(beam):
            tagged = ["O"] * len(tags)
            for start, end, label in ents:
                tagged[start : end] = [f"B-{label}"] + [f"I-{label}"] * (end - start - 1)
                found[start, end, label] += probability
            for token, tag in zip(tags, tagged, strict=True):
                token[tag] += probability
        scores[i] = (min(_margin(token) for token in tags), dict(found))
    return scores


def _margin(probabilities: Mapping[str, float]) -> float:
    top = [*sorted(probabilities.values(), reverse=True)[:2], 0.0]
    return min(max(top[0] - top[1], 0.0), 1.0)
