import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.errors import ApplicationError
from datasets.management.commands._dataset import find_dataset
from labeling.simulation import truth_read
from models_app.services.simulation import STRATEGIES, simulate_labeling, simulate_labeling_check


class Command(BaseCommand):
    help = (
        "Simulate active learning: an oracle labels the dataset's products (imported first with import_products) "
        "with their true labels through the real queue, training and rescoring, and writes the learning curve on a "
        "held-out split."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dataset", required=True, help="Dataset id or exact name.")
        parser.add_argument("--truth", required=True, type=Path, help="CSV or JSONL: product ids and true labels.")
        parser.add_argument("--id-column", default="external_id")
        parser.add_argument("--label-column", default="label", help="Taxonomy path, code or leaf name.")
        parser.add_argument("--labels", type=int, default=1000, help="Labels the oracle gives in all.")
        parser.add_argument("--batch", type=int, default=50, help="Train after every this many labels.")
        parser.add_argument(
            "--schedule", default="", help="Extra label counts to train at, e.g. 25 (comma-separated)."
        )
        parser.add_argument("--strategy", choices=STRATEGIES, default="margin")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--heldout", type=float, default=0.2, help="Share of the truth held out for evaluation.")
        parser.add_argument(
            "--random-share", type=float, default=0.0, help="Share served in random order (not with random)."
        )
        parser.add_argument("--out", type=Path, help="Write the report JSON here (default: stdout).")
        parser.add_argument("--quiet", action="store_true", help="No progress lines.")

    def handle(self, *args: object, **options: object) -> None:
        dataset = find_dataset(options["dataset"])
        try:
            simulate_labeling_check(dataset=dataset)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        try:
            schedule = [int(item) for item in options["schedule"].split(",") if item.strip()]
        except ValueError as error:
            raise CommandError(f"--schedule: {error}") from error

        def progress(point: dict) -> None:
            if not options["quiet"]:
                self.stderr.write(
                    f"{point['labels']:>6} labels  accuracy {point['accuracy']}  macro-F1 {point['macro_f1']}  "
                    f"train {point['train_s']} s  rescore {point['rescore_s']} s"
                )

        try:
            truth = truth_read(options["truth"], id_column=options["id_column"], label_column=options["label_column"])
            report = simulate_labeling(
                dataset=dataset,
                truth=truth,
                labels=int(options["labels"]),
                batch=int(options["batch"]),
                strategy=options["strategy"],
                seed=int(options["seed"]),
                heldout=float(options["heldout"]),
                random_share=float(options["random_share"]),
                schedule=schedule,
                progress=progress,
            )
        except (ApplicationError, OSError) as error:
            raise CommandError(getattr(error, "message", str(error))) from error
        text = json.dumps(report, indent=2)
        if options["out"]:
            Path(options["out"]).write_text(text + "\n", encoding="utf-8")
            totals = report["totals"]
            self.stdout.write(
                f"{totals['labels']} labels, {totals['trainings']} trainings, accuracy {totals['accuracy']}, "
                f"macro-F1 {totals['macro_f1']} in {totals['wall_s']} s; report in {options['out']}"
            )
        else:
            self.stdout.write(text)
