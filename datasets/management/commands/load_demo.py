"""Demo users and a generated demo catalog for `make run`. Never run this on a production database."""

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from datasets.demo import demo_catalog_csv, demo_taxonomy
from datasets.importers import TaxonomyRow
from datasets.models import Dataset, ImportKind, Role
from datasets.services.datasets import dataset_create, membership_set
from datasets.services.imports import import_job_create, import_job_run
from datasets.services.taxonomy import taxonomy_upsert

DEMO_DATASET = "Demo catalog"
# username -> (password, is_superuser, role in the demo dataset)
DEMO_USERS = {
    "admin": ("shelfmark-admin", True, None),
    "lead": ("shelfmark-lead", False, Role.LEAD),
    "annotator": ("shelfmark-annotator", False, Role.ANNOTATOR),
    "annotator2": ("shelfmark-annotator", False, Role.ANNOTATOR),
}


class Command(BaseCommand):
    help = "Create demo users (admin, lead, annotator, annotator2) and the demo catalog, once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--products", type=int, default=3000)

    def handle(self, *args: object, **options: object) -> None:
        users = self._users()
        if Dataset.objects.filter(name=DEMO_DATASET).exists():
            self.stdout.write("Demo catalog already loaded.")
            return
        with transaction.atomic():
            dataset = dataset_create(
                user=users["lead"],
                name=DEMO_DATASET,
                description="Generated products to try Shelfmark: categorize each one into the shop taxonomy.",
            )
            for username, (_, _, role) in DEMO_USERS.items():
                if role and username != "lead":
                    membership_set(dataset=dataset, username=username, role=role)
            taxonomy_upsert(
                dataset=dataset,
                rows=[
                    TaxonomyRow(line=n, code=code, path=tuple(path.split(" > ")))
                    for n, (code, path) in enumerate(demo_taxonomy(), start=1)
                ],
            )
        csv_text = demo_catalog_csv(options["products"], with_category=False)
        job = import_job_create(
            dataset=dataset,
            user=users["lead"],
            kind=ImportKind.PRODUCTS,
            file=ContentFile(csv_text.encode(), name="demo-catalog.csv"),
            start=False,
        )
        job.status = "queued"
        job.save(update_fields=["status"])
        job = import_job_run(job_id=job.pk)
        self.stdout.write(f"Demo catalog loaded: {job.message}")

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
