import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.errors import ApplicationError
from datasets.models import Dataset
from labeling.kinds import KINDS
from labeling.kinds.relevance.grades import SCALES
from workspace.services.datasets import dataset_create


class Command(BaseCommand):
    help = "Create a dataset of a task kind; the lead (or, without one, the first admin) becomes its first lead."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--kind", default="categorization", choices=sorted(KINDS), help="The task kind.")
        parser.add_argument("--lead", help="Username of the dataset's first lead (default: the first admin).")
        parser.add_argument(
            "--grade-scale", choices=sorted(SCALES), help="Search relevance: the grade scale (default esci)."
        )
        parser.add_argument(
            "--span-types", help="Attribute spans: the span types, comma separated, on keys 1-9 in that order."
        )
        parser.add_argument(
            "--span-description", action="store_true", help="Attribute spans: mark the description too."
        )
        parser.add_argument("--overlap", type=int, help="Answers each task needs (default 1).")

    def handle(self, *args: object, **options: object) -> None:
        existing = Dataset.objects.filter(name=options["name"]).first()
        if existing is not None:
            # The other commands find a dataset by its name: two of one name would be ambiguous there.
            raise CommandError(f"A dataset named {options['name']!r} already exists (id {existing.pk}).")
        users = get_user_model().objects.filter(is_active=True)
        if options["lead"]:
            lead = users.filter(username=options["lead"]).first()
            if lead is None:
                raise CommandError(f"No active user {options['lead']!r}.")
        else:
            lead = users.filter(is_superuser=True).order_by("pk").first()
            if lead is None:
                raise CommandError("Name the dataset's lead with --lead (there is no admin to default to).")
        settings = {"task_type": options["kind"]}
        if options["grade_scale"]:
            settings["grade_scale"] = options["grade_scale"]
        if options["span_types"]:
            settings["span_types"] = [name.strip() for name in options["span_types"].split(",")]
        if options["span_description"]:
            settings["span_description"] = True
        if options["overlap"] is not None:
            settings["overlap"] = options["overlap"]
        try:
            dataset = dataset_create(user=lead, name=options["name"], **settings)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(json.dumps({"dataset": dataset.pk, "name": dataset.name, "kind": dataset.task_type}))
