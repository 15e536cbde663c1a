import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.errors import ApplicationError
from datasets.management.commands._dataset import find_dataset
from datasets.models import RETRAIN_EVERY
from models_app.services.simulation import (
    STRATEGIES,
    simulate_labeling,
    simulate_labeling_check,
    simulation_truth_read,
)

# The figures a progress line and the summary show, by the report's kind of figures.
SHOWN = (
    ("ndcg_at_10", "nDCG@10"), ("bm25_ndcg_at_10", "BM25 nDCG@10"), ("accuracy", "accuracy"), ("macro_f1", "macro-F1"),
    ("precision", "P"), ("recall", "R"), ("f1", "F1"),
)


class Command(BaseCommand):
    help = (
        "Simulate active learning: an oracle labels the dataset's tasks (products imported with import_products, "
        "pairs imported with import_pairs, a relevance dataset's candidates, or a span dataset's titles) with their "
        "true labels or spans through the real queue, training and rescoring, and writes the learning curve on a "
        "held-out set."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dataset", required=True, help="Dataset id or exact name.")
        parser.add_argument(
            "--truth",
            required=True,
            type=Path,
            help="CSV or JSONL: product ids and true labels; pairs: left_id,right_id,label or the pairs file itself; "
            "relevance: a judgments file (query_id, product_id, grade); spans: JSON Lines of external_id and spans "
            "(token_start, token_end, label), as load_demo_attributes writes it.",
        )
        parser.add_argument("--id-column", default="external_id", help="Categorization: the product id column.")
        parser.add_argument(
            "--label-column",
            default=None,
            help="Default 'label'. Categorization: taxonomy path, code or leaf name; pairs: 1/0, match/no match.",
        )
        parser.add_argument(
            "--left-column", default=None, help="Pairs: the left product's id column (default left_id, id_left, ...)."
        )
        parser.add_argument(
            "--right-column",
            default=None,
            help="Pairs: the right product's id column (default right_id, id_right, ...).",
        )
        parser.add_argument("--labels", type=int, default=1000, help="Labels the oracle gives in all.")
        parser.add_argument(
            "--batch", type=int, default=RETRAIN_EVERY,
            help="Train after every this many labels; the queue serves this many as a diverse batch after each "
            f"training, as a dataset retraining every this many labels does (default: the datasets' {RETRAIN_EVERY}).",
        )
        parser.add_argument("--schedule", default="", help="Extra label counts to train at, e.g. 25 (comma-separated).")
        parser.add_argument("--strategy", choices=STRATEGIES, default="margin")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--heldout", type=float, default=0.2,
            help="Share of the truth held out for evaluation (relevance: of its queries).",
        )
        parser.add_argument(
            "--heldout-split",
            default=None,
            help="Pairs: hold out the pairs of this split (the pairs file's split column, e.g. test) instead.",
        )
        parser.add_argument(
            "--pool-split", default=None, help="Pairs: label only pairs of this split (e.g. train_medium)."
        )
        parser.add_argument(
            "--compare-full",
            action="store_true",
            help="Also train the same model (a matcher for pairs) on the whole pool's truth and report its figures on "
            "the held-out set.",
        )
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
                    f"{point['labels']:>6} labels  {_figures(point)}  "
                    f"train {point['train_s']} s  rescore {point['rescore_s']} s"
                )

        try:
            truth = simulation_truth_read(
                dataset=dataset,
                path=options["truth"],
                id_column=options["id_column"],
                label_column=options["label_column"],
                left_column=options["left_column"],
                right_column=options["right_column"],
            )
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
                heldout_split_name=options["heldout_split"],
                pool_split=options["pool_split"],
                compare_full=bool(options["compare_full"]),
            )
        except (ApplicationError, OSError) as error:
            raise CommandError(getattr(error, "message", str(error))) from error
        text = json.dumps(report, indent=2)
        if options["out"]:
            Path(options["out"]).write_text(text + "\n", encoding="utf-8")
            totals = report["totals"]
            self.stdout.write(
                f"{totals['labels']} labels, {totals['trainings']} trainings, {_figures(totals)} "
                f"in {totals['wall_s']} s; report in {options['out']}"
            )
        else:
            self.stdout.write(text)


def _figures(point: dict) -> str:
    return ", ".join(f"{name} {point[key]}" for key, name in SHOWN if key in point)
