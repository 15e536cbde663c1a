from django.core.management.base import CommandParser

from workspace.management.commands._importing import ImportCommand, add_arguments, run_import
from workspace.models import ImportKind


class Command(ImportCommand):
    help = (
        "Import relevance judgments (CSV, JSONL or JSON array: query_id, product_id, grade, optional query and "
        "annotator; the Shopping Queries layout's esci_label too) into a relevance dataset, graded on its scale; "
        "importing again changes the grades in place."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_arguments(parser)
        parser.add_argument("--delimiter")
        parser.add_argument(
            "--label-source", default="import", help="Name of the source of the grades of rows with no annotator."
        )

    def handle(self, *args: object, **options: object) -> None:
        import_options = {"delimiter": options["delimiter"], "label_source": options["label_source"]}
        run_import(self, kind=ImportKind.JUDGMENTS, options=options, import_options=import_options)
