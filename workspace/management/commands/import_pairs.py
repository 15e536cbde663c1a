from django.core.management.base import CommandParser

from workspace.management.commands._importing import ImportCommand, add_arguments, run_import
from workspace.models import ImportKind


class Command(ImportCommand):
    help = (
        "Import product pairs (CSV, JSONL or JSON array with left_ and right_ columns, or left_id,right_id of "
        "products already in the dataset) into a matching dataset; importing again updates them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_arguments(parser)
        parser.add_argument("--delimiter")
        parser.add_argument(
            "--label-column", help="Column saying match (1) or no match (0); default: a column named 'label'."
        )
        parser.add_argument("--label-source", default="import", help="Name of the source of those labels.")
        parser.add_argument(
            "--no-labels", action="store_true", help="Import the pairs without the file's labels, to label them afresh."
        )

    def handle(self, *args: object, **options: object) -> None:
        import_options = {
            "delimiter": options["delimiter"],
            "label_column": options["label_column"],
            "label_source": options["label_source"],
        }
        if options["no_labels"]:
            import_options["labels"] = False
        run_import(self, kind=ImportKind.PAIRS, options=options, import_options=import_options)
