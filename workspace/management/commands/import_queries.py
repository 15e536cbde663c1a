from django.core.management.base import CommandParser

from workspace.management.commands._importing import ImportCommand, add_arguments, run_import
from workspace.models import ImportKind


class Command(ImportCommand):
    help = (
        "Import search queries (CSV, JSONL or JSON array: query_id, query, optional locale and weight) into a "
        "relevance dataset; importing again updates them by query_id."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_arguments(parser)
        parser.add_argument("--delimiter")

    def handle(self, *args: object, **options: object) -> None:
        run_import(self, kind=ImportKind.QUERIES, options=options, import_options={"delimiter": options["delimiter"]})
