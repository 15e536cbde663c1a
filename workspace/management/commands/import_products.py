from django.core.management.base import CommandParser

from workspace.management.commands._importing import ImportCommand, add_arguments, run_import
from workspace.models import ImportKind


class Command(ImportCommand):
    help = "Import products (CSV, JSONL or JSON array) into a dataset; re-importing updates by external_id."

    def add_arguments(self, parser: CommandParser) -> None:
        add_arguments(parser)
        parser.add_argument("--delimiter")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="FIELD=COLUMN",
            help="Map a product field to a column, e.g. --map title='Product Title'.",
        )
        parser.add_argument("--label-column", help="Column holding existing labels (path, code or leaf name).")
        parser.add_argument("--label-source", default="import", help="Name of the source of those labels.")

    def handle(self, *args: object, **options: object) -> None:
        mapping = dict(item.split("=", 1) for item in options["map"])
        import_options = {"delimiter": options["delimiter"], "mapping": mapping}
        if options["label_column"]:
            import_options |= {"label_column": options["label_column"], "label_source": options["label_source"]}
        run_import(self, kind=ImportKind.PRODUCTS, options=options, import_options=import_options)
