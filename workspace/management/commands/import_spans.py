from django.core.management.base import CommandParser

from workspace.management.commands._importing import ImportCommand, add_arguments, run_import
from workspace.models import ImportKind


class Command(ImportCommand):
    help = (
        "Import Prodigy span annotations (JSONL of `prodigy db-out`: text, spans, meta.external_id, answer) into an "
        "attribute span dataset as imported answers, one source per annotator; rejected and ignored examples are "
        "skipped, and importing again changes the answers in place."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_arguments(parser)
        parser.add_argument(
            "--label-source", default="prodigy", help="Name of the source of the examples with no _annotator_id."
        )

    def handle(self, *args: object, **options: object) -> None:
        run_import(self, kind=ImportKind.PRODIGY_SPANS, options=options, import_options={
            "label_source": options["label_source"],
        })
