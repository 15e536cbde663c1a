import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.errors import ApplicationError
from datasets.management.commands._dataset import find_dataset
from workspace.models import CandidateRun
from workspace.services.candidates import candidate_run_create, candidate_run_execute

# Progress lines at most this often per phase (fractions 0.0, 0.1, ... 1.0).
STEPS = 10


class Command(BaseCommand):
    help = (
        "Propose the candidate pairs of a matching dataset (TF-IDF nearest neighbours plus exact keys) or of a "
        "relevance dataset (BM25's top results per query, pooled) and add the new ones as tasks, here in this "
        "process; prints progress, then the run's report as JSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dataset", required=True, help="Dataset id or exact name.")
        parser.add_argument("--k", type=int, help="Neighbours per product (10).")
        parser.add_argument("--fields", help="Compared fields, comma-separated: title,brand,description (title,brand).")
        parser.add_argument("--min-similarity", type=float, help="Minimum cosine, 0 to below 1 (0.3).")
        parser.add_argument("--keys", help='Exact keys among model,gtin,brand_size (model,gtin); "" for none.')
        parser.add_argument("--source-field", help="Product column or attribute naming the source (source).")
        parser.add_argument("--skip-same-source", action="store_true", help="Never pair two products of one source.")
        parser.add_argument("--depth", type=int, help="Relevance: results kept per query and ranker (100).")
        parser.add_argument("--pool", type=int, help="Relevance: each ranker's top results judged per query (10).")
        parser.add_argument(
            "--run", help="Relevance: a file of another ranker's results (TREC run or CSV) to pool with BM25's."
        )
        parser.add_argument("--ranker", default="", help="Relevance: the run file's ranker name.")
        parser.add_argument("--user", help="Username recorded as the run's creator.")

    def handle(self, *args: object, **options: Any) -> None:
        dataset = find_dataset(options["dataset"])
        user = get_user_model().objects.filter(username=options["user"]).first() if options["user"] else None
        names = ("k", "fields", "min_similarity", "keys", "source_field", "depth", "pool")
        params: dict[str, Any] = {name: options[name] for name in names if options[name] is not None}
        if options["skip_same_source"]:
            params["skip_same_source"] = True
        try:
            if options["run"]:
                with open(options["run"], "rb") as handle:
                    run = candidate_run_create(
                        dataset=dataset, user=user, params=params, enqueue=False, run_file=File(handle),
                        ranker=options["ranker"],
                    )
            else:
                run = candidate_run_create(dataset=dataset, user=user, params=params, enqueue=False)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        except OSError as error:
            raise CommandError(f"Cannot read the run file: {error}") from error
        self.stdout.write(f"Candidate run {run.pk} of {dataset.name}: {json.dumps(run.params)}")
        run = self._run_here(run.pk)
        if run.status != "succeeded":
            raise CommandError(run.message or f"The run ended {run.status}.")
        self.stdout.write(json.dumps({"run": run.pk, "status": run.status, **run.report}))

    def _run_here(self, run_id: int) -> CandidateRun:
        shown: dict[str, int] = {}

        def watch(phase: str, fraction: float) -> None:
            step = int(fraction * STEPS)
            if shown.get(phase, -1) < step:
                shown[phase] = step
                self.stdout.write(f"  {phase}: {fraction:.0%}")

        run = candidate_run_execute(run_id=run_id, on_progress=watch)
        if run is None:
            raise CommandError(f"Candidate run {run_id} is gone.")
        return run
