"""A span dataset of generated product titles and the truth of their attributes, for the active-learning
simulation (`simulate_labeling --truth`). Never run this on a production database."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from datasets.models import Dataset
from workspace.demo_attributes import demo_attribute_products
from workspace.services.demo_attributes import demo_attributes_load, truth_write

DEMO_ATTRIBUTES = "Demo attributes"


class Command(BaseCommand):
    help = (
        "Create a span dataset of generated product titles (workspace.demo_attributes) led by --user, and write "
        "their true spans to --truth (JSON Lines: external_id and spans with token_start, token_end, label)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", default=DEMO_ATTRIBUTES, help="The dataset's name.")
        parser.add_argument("--products", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=11, help="The generator's seed: the same products for it.")
        parser.add_argument("--truth", type=Path, required=True, help="Where to write the truth file.")
        parser.add_argument("--user", default="lead", help="The dataset's lead (created if missing).")

    def handle(self, *args: object, **options: object) -> None:
        if Dataset.objects.filter(name=options["name"]).exists():
            # The products of a name are the seed's: only the truth is written again.
            written = truth_write(options["truth"], demo_attribute_products(options["products"], seed=options["seed"]))
            self.stdout.write(f"{options['name']!r} already exists; truth of {written} products written.")
            return
        if options["products"] < 1:
            raise CommandError("--products must be positive.")
        user = get_user_model().objects.get_or_create(username=options["user"])[0]
        dataset = demo_attributes_load(
            user=user, name=options["name"], count=options["products"], seed=options["seed"],
            truth_path=options["truth"],
        )
        self.stdout.write(
            f"{dataset.name!r} (id {dataset.pk}): {options['products']} products; truth in {options['truth']}."
        )
