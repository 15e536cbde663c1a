import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.errors import ApplicationError
from datasets.management.commands._dataset import find_dataset
from labeling.quality.report import quality_report_request, quality_report_run
from labeling.simulation import annotators_parse, simulate_team, simulate_team_check, truth_read


class Command(BaseCommand):
    help = (
        "Simulate a team of annotators of chosen accuracy and speed labeling the dataset's products through the "
        "real queue (the dataset's overlap applies), then compute the quality report and print its headline figures."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dataset", required=True, help="Dataset id or exact name.")
        parser.add_argument("--truth", required=True, type=Path, help="CSV or JSONL: product ids and true labels.")
        parser.add_argument("--id-column", default="external_id")
        parser.add_argument("--label-column", default="label", help="Taxonomy path, code or leaf name.")
        parser.add_argument(
            "--annotators", required=True,
            help='name:accuracy:mean seconds, comma-separated; "same" for accuracy makes a one-label spammer. '
            "E.g. alice:0.95:6,bob:0.85:8,spam:same:2",
        )
        parser.add_argument("--answers", type=int, default=1000, help="Answers the team gives in all.")
        parser.add_argument("--flag-rate", type=float, default=0.01)
        parser.add_argument("--spread-days", type=int, default=0, help="Spread the answers' times over past days.")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--out", type=Path, help="Write the report's figures as JSON here.")

    def handle(self, *args: object, **options: object) -> None:
        dataset = find_dataset(options["dataset"])
        try:
            simulate_team_check(dataset=dataset)
            team = annotators_parse(options["annotators"])
            truth = truth_read(options["truth"], id_column=options["id_column"], label_column=options["label_column"])
            run = simulate_team(
                dataset=dataset, truth=truth, team=team, answers=int(options["answers"]), seed=int(options["seed"]),
                flag_rate=float(options["flag_rate"]), spread_days=int(options["spread_days"]),
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        report = quality_report_run(report_id=quality_report_request(dataset=dataset, user=None, enqueue=False).pk)
        figures = report.figures
        if options["out"]:
            options["out"].write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        fleiss = figures["fleiss"]
        self.stdout.write(
            f"{run['answers']} answers ({', '.join(f'{k}: {v}' for k, v in run['by_annotator'].items())}); "
            f"percent agreement {_n(figures['percent_agreement'])}, Fleiss kappa {_n(fleiss['kappa'])} "
            f"on {fleiss['items']} products, Krippendorff alpha {_n(figures['alpha'])}"
        )
        for row in figures["annotators"]:
            self.stdout.write(
                f"  {row['name']:<20} {row['labels']:>6} labels  majority {_n(row['majority_agreement'])}  "
                f"gold {_n(row['gold_accuracy'])}  median {_n(row['median_seconds'])} s  "
                f"distance {_n(row['distribution_distance'])}  {' '.join(row['flags'])}"
            )


def _n(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
