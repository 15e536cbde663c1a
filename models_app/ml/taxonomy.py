"""A classifier for large taxonomies: level by level, one logistic regression per taxonomy node over the children
its labels go through, and the top-k categories by beam search down the tree.

A flat softmax over the Google Product Taxonomy (5,595 categories, 57k columns) asks lbfgs for 50 GB; node by
node the weights are the children of each node times the columns its own examples hold (58 MB on 10k labels, a
probe over the same taxonomy). A category's probability is the product of the choices along its path; a label
may sit on an inner node (a product labeled "Apparel" stops there: a "stop" child of that node).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

STOP = -1  # a node's child that ends the path at the node itself


@dataclass
class _Node:
    children: np.ndarray  # per child: the index of its node, or STOP
    model: LogisticRegression | None  # None: one child only, taken with probability 1
    columns: np.ndarray | None  # the columns the node's examples hold, those its model reads
    stops_as: int  # the class index of a path ending here, or -1


class TaxonomyClassifier(ClassifierMixin, BaseEstimator):
    """Fit with ``fit(X, y, paths=...)``: `paths` maps each class to its taxonomy path (a sequence of names,
    the class's own node last). A class without a path is a top-level node of its own, so without paths this is
    one multinomial logistic regression over the classes.

    ``predict_top(X, k)`` gives the k most probable classes by a beam of ``beam`` paths per row (at least k),
    without the dense row of every class's probability; ``predict_proba`` computes that row exactly (every node
    for every row: for a few hundred classes, not thousands).
    """

    def __init__(
        self,
        *,
        C: float = 10.0,
        class_weight: str | None = "balanced",
        max_iter: int = 300,
        beam: int = 3,
        random_state: int = 0,
    ) -> None:
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.beam = beam
        self.random_state = random_state

    def fit(
        self,
        X: sp.spmatrix,
        y: Sequence[str],
        paths: Mapping[str, Sequence[str]] | None = None,
        *,
        start: TaxonomyClassifier | None = None,
        start_columns: np.ndarray | None = None,
    ):
        """`start`: a classifier fitted before on part of these labels (the holdout's model), whose node models
        start the solver where a node has the same children (the refit on every label then needs fewer
        iterations); `start_columns` maps each of its input columns to one of `X`, or -1 (all kept by default)."""
        X = sp.csr_matrix(X)
        y = np.asarray([str(label) for label in y], dtype=object)
        self.n_features_in_ = X.shape[1]
        self.classes_ = np.array(sorted(set(y)), dtype=object)
        class_index = {label: i for i, label in enumerate(self.classes_)}
        paths = paths or {}
        full = {label: tuple(paths.get(label) or (f"\0{label}",)) for label in self.classes_}
        node_of: dict[tuple, int] = {(): 0}
        members: dict[tuple, list[int]] = {(): []}
        ends_at: dict[tuple, int] = {}
        for label, path in full.items():
            ends_at[path] = class_index[label]
            for depth in range(1, len(path) + 1):
                prefix = path[:depth]
                if prefix not in node_of:
                    node_of[prefix] = len(node_of)
                    members[prefix] = []
        example_paths = [full[label] for label in y]
        for row, path in enumerate(example_paths):
            for depth in range(len(path) + 1):
                members[path[:depth]].append(row)
        self.prefixes_ = list(node_of)  # node index -> its path from the root
        before = {}  # the start's node models by path
        if start is not None and hasattr(start, "prefixes_"):
            before = {
                path: node for path, node in zip(start.prefixes_, start.nodes_, strict=True) if node.model is not None
            }
        self.nodes_: list[_Node] = [None] * len(node_of)  # type: ignore[list-item]
        fits = []
        for prefix, index in node_of.items():
            rows = np.asarray(members[prefix], dtype=np.int64)
            depth = len(prefix)
            # The child each example takes here: the next node on its path, or STOP where its path ends.
            taken = np.asarray(
                [node_of[example_paths[r][: depth + 1]] if len(example_paths[r]) > depth else STOP for r in rows],
                dtype=np.int64,
            )
            children = np.unique(taken) if len(taken) else np.zeros(0, dtype=np.int64)
            self.nodes_[index] = _Node(children=children, model=None, columns=None, stops_as=ends_at.get(prefix, -1))
            if len(children) > 1:
                fits.append((index, prefix, rows, taken))

        def fit_node(index: int, prefix: tuple, rows: np.ndarray, taken: np.ndarray) -> None:
            node = self.nodes_[index]
            part = X[rows]
            node.columns = np.unique(part.indices)
            model = LogisticRegression(
                C=self.C, class_weight=self.class_weight, max_iter=self.max_iter, random_state=self.random_state
            )
            if prefix in before:
                order = start._paths_of(before[prefix].children)  # type: ignore[union-attr]
                _warm_start(model, before[prefix], order, start_columns, self._paths_of(node.children), node.columns)
            model.fit(part[:, node.columns], taken)
            model.set_params(warm_start=False)  # the artifact's settings stay the config's
            node.model, node.children = model, model.classes_.astype(np.int64)

        with warnings.catch_warnings():
            # A deep node often has nearly as many children as examples: expected, not a regression.
            warnings.filterwarnings("ignore", message="The number of unique classes", category=UserWarning)
            for fit in fits:
                fit_node(*fit)
        return self

    def _paths_of(self, children: np.ndarray) -> list[tuple | None]:
        return [None if child == STOP else self.prefixes_[child] for child in children]

    def _choices(self, node: _Node, X: sp.csr_matrix, at: np.ndarray | None = None) -> np.ndarray:
        """The probability of each of the node's children for the rows `at` of `X` (all by default): the
        node's model, without scikit-learn's per-call checks (a beam calls it thousands of times)."""
        if node.model is None:
            return np.ones((X.shape[0] if at is None else len(at), len(node.children)))
        rows = X if at is None else X[at]
        decision = np.asarray(rows[:, node.columns] @ node.model.coef_.T) + node.model.intercept_
        if decision.shape[1] == 1:  # two children: LogisticRegression's binary form
            chosen = expit(decision[:, 0])
            return np.column_stack([1.0 - chosen, chosen])
        return softmax(decision, axis=1)

    def predict_top(self, X: sp.spmatrix, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
        """(class indices (n, k), probabilities (n, k)), most probable first; a row with fewer than k reachable
        classes is padded with other classes at probability 0."""
        X = sp.csr_matrix(X)
        n, k = X.shape[0], min(k, len(self.classes_))
        width = max(self.beam, k)
        # The beam and the finished paths as dense (n, slots) arrays: an empty slot is node -1, probability -1,
        # so each level keeps its best per row by sorting a few columns, never the entries of every row at once.
        beam_nodes, beam_probs = np.zeros((n, 1), dtype=np.int64), np.ones((n, 1))
        done_classes, done_probs = np.full((n, k), -1, dtype=np.int64), np.full((n, k), -1.0)
        while n and (beam_nodes >= 0).any():
            slots = beam_nodes.shape[1]
            next_nodes, next_probs = np.full((n, slots * width), -1, dtype=np.int64), np.full((n, slots * width), -1.0)
            stop_classes, stop_probs = np.full((n, slots), -1, dtype=np.int64), np.full((n, slots), -1.0)
            for slot in range(slots):
                nodes = beam_nodes[:, slot]
                live = np.flatnonzero(nodes >= 0)
                live = live[np.argsort(nodes[live], kind="stable")]  # rows stay ascending within a node
                for at in np.split(live, np.flatnonzero(np.diff(nodes[live])) + 1) if len(live) else ():
                    node = self.nodes_[nodes[at[0]]]
                    reach = self._choices(node, X, at) * beam_probs[at, slot, None]
                    stop = np.flatnonzero(node.children == STOP)
                    if len(stop):
                        stop_classes[at, slot], stop_probs[at, slot] = node.stops_as, reach[:, stop[0]]
                        reach[:, stop[0]] = -1.0
                    best = _top_columns(reach, width)
                    columns = slice(slot * width, slot * width + best.shape[1])
                    next_probs[at, columns] = np.take_along_axis(reach, best, axis=1)
                    next_nodes[at, columns] = np.where(next_probs[at, columns] >= 0, node.children[best], -1)
            done_classes, done_probs = _best_columns(
                np.hstack([done_classes, stop_classes]), np.hstack([done_probs, stop_probs]), k
            )
            beam_nodes, beam_probs = _best_columns(next_nodes, next_probs, width)
        done_probs[done_classes < 0] = 0.0
        _pad(done_classes)
        return done_classes, done_probs

    def predict(self, X: sp.spmatrix) -> np.ndarray:
        return self.classes_[self.predict_top(X, 1)[0][:, 0]]

    def predict_proba(self, X: sp.spmatrix) -> np.ndarray:
        X = sp.csr_matrix(X)
        out = np.zeros((X.shape[0], len(self.classes_)))
        reach = {0: np.ones(X.shape[0])}
        for index, node in enumerate(self.nodes_):  # a node is numbered after its parent
            here = reach.pop(index, None)
            if here is None:
                continue
            choices = self._choices(node, X)
            for j, child in enumerate(node.children):
                if child == STOP:
                    out[:, node.stops_as] += here * choices[:, j]
                else:
                    reach[child] = here * choices[:, j]
        return out


def _top_columns(values: np.ndarray, keep: int) -> np.ndarray:
    """Per row, the column indices of its `keep` largest values, in no particular order."""
    if values.shape[1] <= keep:
        return np.broadcast_to(np.arange(values.shape[1]), values.shape).copy()
    return np.argpartition(-values, keep - 1, axis=1)[:, :keep]


def _best_columns(items: np.ndarray, probs: np.ndarray, keep: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the `keep` entries of highest probability, highest first (ties: the earlier column first)."""
    order = np.argsort(-probs, axis=1, kind="stable")[:, :keep]
    return np.take_along_axis(items, order, axis=1), np.take_along_axis(probs, order, axis=1)


def _pad(top_classes: np.ndarray) -> None:
    # Rows whose beam reached fewer than k classes: the free slots take the lowest classes not already there.
    for row in np.flatnonzero((top_classes < 0).any(axis=1)):
        taken = set(top_classes[row][top_classes[row] >= 0].tolist())
        spare = (c for c in range(top_classes.shape[1] + len(taken) + 1) if c not in taken)
        for slot in np.flatnonzero(top_classes[row] < 0):
            top_classes[row, slot] = next(spare)


def _warm_start(
    model: LogisticRegression,
    before: _Node,
    order: list[tuple | None],
    start_columns: np.ndarray | None,
    children: list[tuple | None],
    columns: np.ndarray,
) -> None:
    # `before`, the same node in the start's tree, if it chose among the same children (`order`, by path): its
    # weights, its children reordered as here and its columns moved to this node's (a column new here starts at 0).
    if sorted(order, key=repr) != sorted(children, key=repr):
        return
    coef, intercept = before.model.coef_, before.model.intercept_
    if len(children) == 2:
        if order != children:  # one row of weights, for the second child: the other way round, negated
            coef, intercept = -coef, -intercept
    else:
        where = [order.index(child) for child in children]
        coef, intercept = coef[where], intercept[where]
    moved = before.columns if start_columns is None else start_columns[before.columns]
    kept = moved >= 0
    at = np.searchsorted(columns, moved[kept])
    found = at < len(columns)
    found[found] = columns[at[found]] == moved[kept][found]
    weights = np.zeros((coef.shape[0], len(columns)))
    weights[:, at[found]] = coef[:, np.flatnonzero(kept)[found]]
    model.set_params(warm_start=True)
    model.coef_, model.intercept_ = weights, intercept.copy()
