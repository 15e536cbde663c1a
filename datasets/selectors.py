"""Reads scoped by membership: another dataset's id is a 404, a lower role a 403."""

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TypeVar

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, Model, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from config.errors import ApplicationError
from config.sql_rows import columns as sql_columns
from config.sql_rows import instances as sql_instances
from config.sql_rows import is_key, one_row
from datasets.importers import split_path
from datasets.label_cache import label_index
from datasets.label_rank import label_rank
from datasets.models import Dataset, Label, Membership, Product, Query, Role

M = TypeVar("M", bound=Model)

ADMIN = "admin"
# Products a model's vectorizers learn their vocabularies and IDF from (`product_sample_ids`): a few seconds of
# fitting; past that the IDF of a catalog's words hardly moves.
CATALOG_SAMPLE = 30_000
_RANK = {Role.ANNOTATOR: 1, Role.LEAD: 2, ADMIN: 3}


def dataset_create_allowed(*, user: AbstractBaseUser) -> bool:
    """Admins, staff and the leads of a dataset may create datasets: the one rule of the page and the API."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or user.is_staff or Membership.objects.filter(user=user, role=Role.LEAD).exists()


def dataset_list(*, user: AbstractBaseUser) -> QuerySet[Dataset]:
    if user.is_superuser:
        return Dataset.objects.all()
    return Dataset.objects.filter(memberships__user=user)


# The dataset with the user's role, one statement written by hand: the annotator's every request reads it, and
# the ORM's compilation of the role's subquery took ten times the query's own time.
_DATASET_WITH_ROLE = f"""
SELECT {sql_columns(Dataset, "d")},
       (SELECT m.role FROM {Membership._meta.db_table} m WHERE m.dataset_id = d.id AND m.user_id = %s LIMIT 1)
FROM {Dataset._meta.db_table} d
WHERE d.id = %s
"""  # noqa: S608 - only the models' own table and column names are interpolated


def dataset_get(*, user: AbstractBaseUser, dataset_id: int, role: str = Role.ANNOTATOR) -> Dataset:
    """The dataset if the user may act in it with at least `role`; read with the user's role in one query."""
    if not is_key(dataset_id):
        raise Http404("No such dataset.")
    row = one_row(_DATASET_WITH_ROLE, [user.pk, dataset_id])
    if row is None:
        raise Http404("No such dataset.")
    (dataset,), (member_role,) = sql_instances(row, Dataset)
    user_role = ADMIN if user.is_superuser else member_role
    if user_role is None:
        raise Http404("No such dataset.")
    if _RANK[user_role] < _RANK[role]:
        raise PermissionDenied(f"This needs the {role} role in this dataset.")
    dataset.member_role = member_role
    dataset.user_role = user_role
    return dataset


def label_search(*, dataset: Dataset, query: str = "", limit: int | None = 20) -> QuerySet[Label]:
    """Labels whose path contains every word of the query, leaves and shallow paths first; all of them
    with limit=None (the API pages them)."""
    labels = Label.objects.filter(dataset=dataset, deprecated=False)
    for word in query.split():
        labels = labels.filter(path__icontains=word)
    return labels.annotate(n_children=Count("children")).order_by("n_children", "depth", "path", "pk")[:limit]


def label_search_ranked(
    *, dataset: Dataset, query: str = "", usage: Mapping[int, int] | None = None, limit: int = 30
) -> list[Label]:
    """The annotator's search: typos and word order forgiven, name and synonym matches before path-only ones
    (`datasets.label_rank`); an empty query lists the most used labels (by `usage`), then the leaves by path."""
    ids = label_rank(index=label_index(dataset=dataset), query=query, usage=usage, limit=limit)
    found = Label.objects.filter(dataset=dataset).in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


def label_children(*, dataset: Dataset, parent_id: int | None) -> QuerySet[Label]:
    """One level of the taxonomy tree (its roots with parent_id=None), by name, each with its number of children."""
    return (
        Label.objects.filter(dataset=dataset, parent_id=parent_id, deprecated=False)
        .annotate(n_children=Count("children", filter=Q(children__deprecated=False)))
        .order_by("name", "pk")
    )


def label_leaves_if_few(*, dataset: Dataset, at_most: int) -> list[Label] | None:
    """The dataset's leaves by path when there are at most `at_most` of them (each can have its own key), else None."""
    leaves = Label.objects.filter(dataset=dataset, deprecated=False, children__isnull=True).order_by("path", "pk")
    leaves = list(leaves[: at_most + 1])
    return leaves if len(leaves) <= at_most else None


def label_list(*, dataset: Dataset) -> QuerySet[Label]:
    return Label.objects.filter(dataset=dataset).order_by("path")


# `label_list` read by a statement written once: a span answer checks its types against every label of the dataset,
# and with the queryset compiled on each submit a spans next + submit took 11.7-13.0 ms in-process, 9.5 with this.
_LABELS = f"""
SELECT {sql_columns(Label, "l")} FROM {Label._meta.db_table} l WHERE l.dataset_id = %s ORDER BY l.path
"""  # noqa: S608 - only the model's own table and column names are interpolated


def labels_read(*, dataset: Dataset) -> list[Label]:
    """The dataset's labels as `label_list` orders them, read at once."""
    with connection.cursor() as cursor:
        cursor.execute(_LABELS, [dataset.pk])
        return [sql_instances(row, Label)[0][0] for row in cursor.fetchall()]


# Written by hand for the same reason: every categorization answer reads its label, and the ORM compiled the
# query in four times the time it runs in.
_LABEL = f"""
SELECT {sql_columns(Label, "l")} FROM {Label._meta.db_table} l WHERE l.id = %s AND l.dataset_id = %s
"""  # noqa: S608 - only the model's own table and column names are interpolated


def label_get(*, dataset: Dataset, pk: int) -> Label:
    """A label of this dataset by id: another dataset's label is as unknown as a missing one."""
    row = one_row(_LABEL, [pk, dataset.pk]) if is_key(pk) else None
    if row is None:
        raise ApplicationError("No such label in this dataset.", extra={"label": pk})
    (label,), _ = sql_instances(row, Label)
    return label


_LABEL_BY_CODE = f"""
SELECT {sql_columns(Label, "l")} FROM {Label._meta.db_table} l WHERE l.dataset_id = %s AND l.code = %s
ORDER BY l.id LIMIT 1
"""  # noqa: S608 - only the model's own table and column names are interpolated


def label_by_code(*, dataset: Dataset, code: str) -> Label | None:
    """The dataset's label with this code, or None; written by hand as `label_get` is, for the answers given as a
    fixed choice's value (a relevance grade, match or no match) on each submit."""
    row = one_row(_LABEL_BY_CODE, [dataset.pk, code])
    return sql_instances(row, Label)[0][0] if row is not None else None


def label_find(*, pk: int) -> Label | None:
    """A label by id whatever its dataset, for a service that says itself when it belongs to another one."""
    return Label.objects.filter(pk=pk).first()


def product_list(*, dataset: Dataset) -> QuerySet[Product]:
    return Product.objects.filter(dataset=dataset).order_by("pk")


# Each id found by a probe of the (dataset, external id) index, whatever the statistics say. They may predate the
# dataset's rows (the statistics of an import's first batch, or of a dataset made after the last ANALYZE): planned
# from them, `dataset_id = %s AND external_id IN (...)` was an index scan of the dataset alone, each of its rows
# tested against the whole list (the labels' lookup of the same shape took 46 s for 10,000 ids in a dataset of
# 240,000 products). The lateral subquery (OFFSET 0 keeps it from being flattened into a join) can only run once
# per id, by both columns.
_IDS_BY_EXTERNAL_ID = """
SELECT e.external_id, found.id
FROM unnest(%(external_ids)s::text[]) AS e(external_id)
CROSS JOIN LATERAL (
    SELECT r.id FROM {table} AS r
    WHERE r.dataset_id = %(dataset)s AND r.external_id = e.external_id
    OFFSET 0
) AS found
"""


def _ids_by_external_id(model: type[Model], *, dataset: Dataset, external_ids: Iterable[str]) -> dict[str, int]:
    wanted = list(external_ids)
    if not wanted:
        return {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            statement = _IDS_BY_EXTERNAL_ID.format(table=model._meta.db_table)
            cursor.execute(statement, {"external_ids": wanted, "dataset": dataset.pk})
            return dict(cursor.fetchall())
    return dict(model.objects.filter(dataset=dataset, external_id__in=wanted).values_list("external_id", "pk"))


def product_ids(*, dataset: Dataset, external_ids: Iterable[str]) -> dict[str, int]:
    """The id of each of these products the dataset holds, by external id; the others are left out."""
    return _ids_by_external_id(Product, dataset=dataset, external_ids=external_ids)


def query_ids(*, dataset: Dataset, external_ids: Iterable[str]) -> dict[str, int]:
    """The id of each of these search queries the dataset holds, by external id; the others are left out."""
    return _ids_by_external_id(Query, dataset=dataset, external_ids=external_ids)


_RESOLVED_KEPT = 10_000


class LabelResolver:
    """Finds a taxonomy node from an imported label value: its full path, its code, or a unique leaf name."""

    def __init__(self, dataset: Dataset) -> None:
        all_labels = list(Label.objects.filter(dataset=dataset))
        names = Counter(label.name.casefold() for label in all_labels)
        self._by_key: dict[str, Label] = {}
        for label in all_labels:
            self._by_key[label.path.casefold()] = label
            if label.code:
                self._by_key.setdefault(label.code.casefold(), label)
            if names[label.name.casefold()] == 1:
                self._by_key[f"name:{label.name.casefold()}"] = label
        # An import's label column repeats a few values over millions of rows: each is resolved once (up to
        # _RESOLVED_KEPT of them, so a column of distinct junk costs no memory).
        self._resolved: dict[str, Label | None] = {}

    def __call__(self, value: str) -> Label | None:
        try:
            return self._resolved[value]
        except KeyError:
            pass
        key = " > ".join(split_path(value)).casefold()
        label = self._by_key.get(key) or self._by_key.get(f"name:{key}")
        if len(self._resolved) < _RESOLVED_KEPT:
            self._resolved[value] = label
        return label


def product_sample_ids(*, dataset: Dataset, limit: int = CATALOG_SAMPLE) -> list[int]:
    """The ids of the dataset's products, ascending: all of them, or `limit` drawn with the dataset's seed (the
    same ones while the catalog is unchanged). For what models learn from the catalog without labels."""
    ids = np.fromiter(
        Product.objects.filter(dataset=dataset).order_by("pk").values_list("pk", flat=True).iterator(chunk_size=10_000),
        dtype=np.int64,
    )
    if len(ids) > limit:
        ids = np.sort(np.random.default_rng(dataset.seed).choice(ids, limit, replace=False))
    return ids.tolist()


# How far before now a product write may carry its time without being committed yet, where the database cannot
# say (SQLite, whose writes are short) and as a margin for the clocks of the app's machines (PostgreSQL).
WRITE_MARGIN = timedelta(minutes=1)
SQLITE_WRITE_WINDOW = timedelta(minutes=10)


def product_write_watermark() -> datetime:
    """A time such that every product written later than it, or not yet visible now, has `updated_at` at or
    after it: for what keeps derived data (a model's feature rows) current by re-reading the products changed
    since. On PostgreSQL the start of the oldest transaction open on this database (an import's rows carry its
    start time, and become visible only at its commit), less WRITE_MARGIN; elsewhere now less
    SQLITE_WRITE_WINDOW."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT least(now(), coalesce(min(xact_start), now())) FROM pg_stat_activity "
                "WHERE datname = current_database()"
            )
            oldest = cursor.fetchone()[0]
        return oldest - WRITE_MARGIN
    return timezone.now() - SQLITE_WRITE_WINDOW


def membership_list(*, dataset: Dataset) -> QuerySet[Membership]:
    return Membership.objects.filter(dataset=dataset).select_related("user").order_by("role", "user__username")


def membership_get(*, dataset: Dataset, username: str) -> Membership:
    """A member of the dataset by username; anyone else is a 404."""
    membership = Membership.objects.filter(dataset=dataset, user__username=username).select_related("user").first()
    if membership is None:
        raise Http404("No such member.")
    return membership


def lead_object_get(queryset: QuerySet[M], *, user: AbstractBaseUser, pk: int, missing: str) -> M:
    """One record of a dataset (a job, say), for the dataset's leads: 404 if there is none or it is another
    dataset's, 403 for its annotators."""
    record = queryset.filter(pk=pk).first()
    if record is None:
        raise Http404(missing)
    dataset_get(user=user, dataset_id=record.dataset_id, role=Role.LEAD)
    return record
