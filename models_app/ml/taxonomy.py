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

    def fit(self, X: sp.spmatrix, y: Sequence[str], paths: Mapping[str, Sequence[str]] | None = None):
        X = sp.csr_matrix(X)
        y = np.asarray([str(label) for label in y], dtype=object)
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
        self.nodes_: list[_Node] = [None] * len(node_of)  # type: ignore[list-item]
        for prefix, index in node_of.items():
            rows = np.asarray(members[prefix], dtype=np.int64)
            depth = len(prefix)
            # The child each example takes here: the next node on its path, or STOP where its path ends.
            taken = np.asarray(
                [node_of[example_paths[r][: depth + 1]] if len(example_paths[r]) > depth else STOP for r in rows],
                dtype=np.int64,
            )
            children = np.unique(taken) if len(taken) else np.zeros(0, dtype=np.int64)
            model, columns = None, None
            if len(children) > 1:
                part = X[rows]
                columns = np.unique(part.indices)
                model = LogisticRegression(
                    C=self.C, class_weight=self.class_weight, max_iter=self.max_iter, random_state=self.random_state
                )
                with warnings.catch_warnings():
                    # A deep node often has nearly as many children as examples: expected, not a regression.
                    warnings.filterwarnings("ignore", message="The number of unique classes", category=UserWarning)
                    model.fit(part[:, columns], taken)
                children = model.classes_.astype(np.int64)
            stops_as = ends_at.get(prefix, -1)
            self.nodes_[index] = _Node(children=children, model=model, columns=columns, stops_as=stops_as)
        return self

    def _choices(self, node: _Node, X: sp.csr_matrix) -> np.ndarray:
        if node.model is None:
            return np.ones((X.shape[0], len(node.children)))
        return node.model.predict_proba(X[:, node.columns])

    def predict_top(self, X: sp.spmatrix, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
        """(class indices (n, k), probabilities (n, k)), most probable first; a row with fewer than k reachable
        classes is padded with other classes at probability 0."""
        X = sp.csr_matrix(X)
        n, k = X.shape[0], min(k, len(self.classes_))
        width = max(self.beam, k)
        rows, nodes, probs = np.arange(n), np.zeros(n, dtype=np.int64), np.ones(n)
        done_rows, done_classes, done_probs = [], [], []
        while len(rows):
            order = np.argsort(nodes, kind="stable")
            rows, nodes, probs = rows[order], nodes[order], probs[order]
            next_rows, next_nodes, next_probs = [], [], []
            for part in np.split(np.arange(len(rows)), np.flatnonzero(np.diff(nodes)) + 1):
                node = self.nodes_[nodes[part[0]]]
                at, reach = rows[part], probs[part]
                choices = self._choices(node, X[at])
                for j, child in enumerate(node.children):
                    p = reach * choices[:, j]
                    if child == STOP:
                        done_rows.append(at), done_classes.append(np.full(len(at), node.stops_as)), done_probs.append(p)
                    else:
                        next_rows.append(at), next_nodes.append(np.full(len(at), child)), next_probs.append(p)
            if not next_rows:
                break
            rows, nodes, probs = _best_per_row(
                np.concatenate(next_rows), np.concatenate(next_nodes), np.concatenate(next_probs), width
            )
        if done_rows:
            rows, classes, probs = _best_per_row(
                np.concatenate(done_rows), np.concatenate(done_classes), np.concatenate(done_probs), k
            )
        else:
            rows, classes, probs = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
        top_classes = np.full((n, k), -1, dtype=np.int64)
        top_probs = np.zeros((n, k))
        slot = _rank_in_row(rows)
        top_classes[rows, slot], top_probs[rows, slot] = classes, probs
        _pad(top_classes)
        return top_classes, top_probs

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


def _rank_in_row(rows: np.ndarray) -> np.ndarray:
    """The position of each entry among those of its row (rows sorted)."""
    if not len(rows):
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(rows)) + 1]
    return np.arange(len(rows)) - np.repeat(starts, np.diff(np.r_[starts, len(rows)]))


def _best_per_row(rows: np.ndarray, items: np.ndarray, probs: np.ndarray, keep: int):
    order = np.lexsort((-probs, rows))
    rows, items, probs = rows[order], items[order], probs[order]
    kept = _rank_in_row(rows) < keep
    return rows[kept], items[kept], probs[kept]


def _pad(top_classes: np.ndarray) -> None:
    # Rows whose beam reached fewer than k classes: the free slots take the lowest classes not already there.
    for row in np.flatnonzero((top_classes < 0).any(axis=1)):
        taken = set(top_classes[row][top_classes[row] >= 0].tolist())
        spare = (c for c in range(top_classes.shape[1] + len(taken) + 1) if c not in taken)
        for slot in np.flatnonzero(top_classes[row] < 0):
            top_classes[row, slot] = next(spare)
