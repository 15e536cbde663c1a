import json
import os
import secrets
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.errors import ApplicationError
from datasets.management.commands._dataset import find_dataset
from workspace.services.export_params import export_params_clean
from workspace.services.exports import export_write


class Command(BaseCommand):
    help = "Write one export of a dataset to a file, here and now; no snapshot is recorded."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dataset", required=True, help="Dataset id or exact name.")
        parser.add_argument(
            "--format",
            required=True,
            help="csv, jsonl, json or parquet; spacy or labelstudio for categorization, ditto, clusters_csv or "
            "clusters_jsonl for matching; qrels for search relevance; spacy_ner, prodigy, conll or "
            "labelstudio_spans for attribute spans.",
        )
        parser.add_argument("--out", required=True, type=Path, help="The file to write; replaced once complete.")
        parser.add_argument(
            "--policy",
            default="final",
            help="final, majority, raw, or predicted (every product: its final label, else the active model's).",
        )
        parser.add_argument(
            "--min-confidence", type=float, help="Predicted: leave out predictions below this probability."
        )
        parser.add_argument("--min-agreement", type=float, help="Majority: the share of votes the top label needs.")
        parser.add_argument("--min-votes", type=int, help="Majority: the votes the top label needs.")
        parser.add_argument("--include-flagged", action="store_true")
        parser.add_argument("--include-suggestions", action="store_true")
        parser.add_argument("--split", help="Train, dev and test fractions, e.g. 0.8,0.1,0.1.")
        parser.add_argument("--seed", type=int, help="Seeds the split.")
        parser.add_argument(
            "--cluster-matches", help="Cluster formats: labeled (the default) or predicted (labeled + the matcher's)."
        )

    def handle(self, *args: object, **options: object) -> None:
        out = Path(options["out"])  # call_command hands over keyword values without parsing them
        if out.is_dir():
            raise CommandError(f"{out} is a directory; give a file name.")
        if not out.parent.is_dir():
            raise CommandError(f"{out.parent} does not exist.")
        dataset = find_dataset(options["dataset"])
        try:
            params = export_params_clean(
                dataset=dataset,
                fmt=options["format"],
                policy=options["policy"],
                options={
                    "min_agreement": options["min_agreement"],
                    "min_votes": options["min_votes"],
                    "include_flagged": options["include_flagged"],
                    "include_suggestions": options["include_suggestions"],
                    "split": options["split"],
                    "seed": options["seed"],
                    "cluster_matches": options.get("cluster_matches"),
                    "min_confidence": options.get("min_confidence"),
                },
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        # Written beside the target and renamed over it, so PATH only ever holds a complete export.
        partial = out.with_name(f".{out.name}.{secrets.token_hex(4)}.part")
        try:
            with partial.open("xb") as handle:
                result = export_write(dataset=dataset, params=params, out=handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, out)
        except (ValueError, ApplicationError) as error:
            # The writers refuse what they cannot encode with a ValueError that gives the reason.
            raise CommandError(f"The export failed: {error}") from error
        finally:
            partial.unlink(missing_ok=True)
        summary = {
            "path": str(out),
            "rows": result.rows,
            "size": result.size,
            "sha256": result.sha256,
            "split_counts": result.split_counts,
        }
        self.stdout.write(json.dumps(summary))
