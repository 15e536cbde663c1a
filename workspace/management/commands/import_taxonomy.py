from django.core.management.base import CommandParser

from workspace.management.commands._importing import ImportCommand, add_arguments, run_import
from workspace.models import ImportKind


class Command(ImportCommand):
    help = "Import a taxonomy (Google Product Taxonomy text, CSV id,path, or JSON) into a dataset."

    def add_arguments(self, parser: CommandParser) -> None:
        add_arguments(parser)

    def handle(self, *args: object, **options: object) -> None:
        run_import(self, kind=ImportKind.TAXONOMY, options=options, import_options={})
