"""Demo users, a generated demo catalog, demo pairs to match, demo search queries to judge and demo titles to
mark attributes in, for `make run`. Never run this on a production database."""

import csv
import io
import json

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from datasets.importers import TaxonomyRow
from datasets.models import Dataset, Role, TaskType
from datasets.services.datasets import membership_set
from datasets.services.queries import queries_upsert
from datasets.services.taxonomy import taxonomy_upsert
from labeling.kinds.matching.demo import demo_pairs
from labeling.kinds.relevance.candidates import POOL, relevance_candidates
from workspace.demo import demo_catalog_csv, demo_products, demo_taxonomy
from workspace.demo_attributes import demo_attribute_products
from workspace.demo_search import demo_queries
from workspace.models import ImportKind
from workspace.services.datasets import dataset_create
from workspace.services.imports import import_job_create, import_job_run

DEMO_DATASET = "Demo catalog"
DEMO_MATCHING = "Demo matching"
DEMO_SEARCH = "Demo search"
DEMO_ATTRIBUTES = "Demo attributes"
# One pair in this many keeps its label in the file: answers of an earlier tool, imported from source "seed".
LABELED_EVERY = 4
# username -> (password, is_superuser, role in the demo dataset)
DEMO_USERS = {
    "admin": ("shelfmark-admin", True, None),
    "lead": ("shelfmark-lead", False, Role.LEAD),
    "annotator": ("shelfmark-annotator", False, Role.ANNOTATOR),
    "annotator2": ("shelfmark-annotator", False, Role.ANNOTATOR),
}


class Command(BaseCommand):
    help = (
        "Create demo users (admin, lead, annotator, annotator2), the demo catalog, the demo pairs, the demo "
        "search and the demo attributes, once each."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--products", type=int, default=3000)
        parser.add_argument("--pairs", type=int, default=200)
        parser.add_argument("--search-products", type=int, default=1000)
        parser.add_argument("--queries", type=int, default=60)
        parser.add_argument("--attribute-products", type=int, default=500)

    def handle(self, *args: object, **options: object) -> None:
        users = self._users()
        if Dataset.objects.filter(name=DEMO_DATASET).exists():
            self.stdout.write("Demo catalog already loaded.")
        else:
            self._catalog(users, options["products"])
        if Dataset.objects.filter(name=DEMO_MATCHING).exists():
            self.stdout.write("Demo pairs already loaded.")
        else:
            self._matching(users, options["pairs"])
        if Dataset.objects.filter(name=DEMO_SEARCH).exists():
            self.stdout.write("Demo search already loaded.")
        else:
            self._search(users, options["search_products"], options["queries"])
        if Dataset.objects.filter(name=DEMO_ATTRIBUTES).exists():
            self.stdout.write("Demo attributes already loaded.")
        else:
            self._attributes(users, options["attribute_products"])

    def _catalog(self, users: dict, count: int) -> None:
        with transaction.atomic():
            dataset = self._dataset(
                users,
                name=DEMO_DATASET,
                description="Generated products to try Shelfmark: categorize each one into the shop taxonomy.",
            )
            taxonomy_upsert(
                dataset=dataset,
                rows=[
                    TaxonomyRow(line=n, code=code, path=tuple(path.split(" > ")))
                    for n, (code, path) in enumerate(demo_taxonomy(), start=1)
                ],
            )
        csv_text = demo_catalog_csv(count, with_category=False)
        job = self._import(users, dataset, ImportKind.PRODUCTS, ContentFile(csv_text.encode(), name="demo-catalog.csv"))
        self.stdout.write(f"Demo catalog loaded: {job.message}")

    def _matching(self, users: dict, count: int) -> None:
        dataset = self._dataset(
            users,
            name=DEMO_MATCHING,
            task_type=TaskType.MATCHING,
            description="Generated shop offers in pairs: say whether the two sides are the same product.",
        )
        rows = demo_pairs(count=count, seed=11)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({**row, "label": row["label"] if n % LABELED_EVERY == 0 else ""} for n, row in enumerate(rows))
        file = ContentFile(buffer.getvalue().encode(), name="demo-pairs.csv")
        job = self._import(users, dataset, ImportKind.PAIRS, file, options={"label_source": "seed"})
        self.stdout.write(f"Demo pairs loaded: {job.message}")

    def _search(self, users: dict, products: int, queries: int) -> None:
        """A relevance dataset over demo products, with shoppers' queries and BM25's top 10 of each to judge. BM25
        runs here (a second for the demo's size), like the demo's imports, so the queue is full when the server
        starts."""
        dataset = self._dataset(
            users,
            name=DEMO_SEARCH,
            task_type=TaskType.RELEVANCE,
            description="Shoppers' search queries over generated products: grade how well each result answers its "
            "query (exact, substitute, complement, irrelevant).",
        )
        csv_text = demo_catalog_csv(products, seed=23, with_category=False)
        job = self._import(users, dataset, ImportKind.PRODUCTS, ContentFile(csv_text.encode(), name="demo-search.csv"))
        queries_upsert(dataset=dataset, rows=demo_queries(demo_products(products, seed=23), count=queries))
        counts = relevance_candidates(dataset=dataset, pool=POOL)
        self.stdout.write(
            f"Demo search loaded: {job.message} {counts.queries} queries, {counts.created} results to judge."
        )

    def _attributes(self, users: dict, count: int) -> None:
        """A span dataset of demo titles: their brand and attribute columns pre-annotate them as suggestions."""
        dataset = self._dataset(
            users,
            name=DEMO_ATTRIBUTES,
            task_type=TaskType.SPANS,
            description="Generated product titles: mark the attributes in each (brand, model, color, size...); the "
            "dashed spans are the product's own values found in its title.",
        )
        lines = []
        for product in demo_attribute_products(count):
            # A product file's columns: its own attributes are columns too (the import keeps them as attributes).
            record = {key: product[key] for key in ("external_id", "title", "description", "brand", "price", "currency",
                                                    "url")}
            lines.append(json.dumps({**record, **product["attributes"], "category": product["category"]}))
        file = ContentFile("\n".join(lines).encode(), name="demo-attributes.jsonl")
        job = self._import(users, dataset, ImportKind.PRODUCTS, file)
        self.stdout.write(f"Demo attributes loaded: {job.message}")

    def _dataset(self, users: dict, **settings: object) -> Dataset:
        """A demo dataset led by "lead", with the other demo users in their demo roles."""
        with transaction.atomic():
            dataset = dataset_create(user=users["lead"], **settings)
            for username, (_, _, role) in DEMO_USERS.items():
                if role and username != "lead":
                    membership_set(dataset=dataset, username=username, role=role)
        return dataset

    def _import(self, users: dict, dataset: Dataset, kind: str, file: ContentFile, options: dict | None = None):
        """Import `file` here and now: the demo is there when `make run` starts the server."""
        job = import_job_create(dataset=dataset, user=users["lead"], kind=kind, file=file, options=options, start=False)
        job.status = "queued"
        job.save(update_fields=["status"])
        return import_job_run(job_id=job.pk)

    def _users(self) -> dict:
        model = get_user_model()
        users = {}
        for username, (password, superuser, _) in DEMO_USERS.items():
            user, created = model.objects.get_or_create(
                username=username, defaults={"is_superuser": superuser, "is_staff": superuser}
            )
            if created:
                user.set_password(password)
                user.save()
            users[username] = user
        return users
