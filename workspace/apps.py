from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    """The top app: the pages and jobs that compose datasets, labeling and models (imports, exports, demo)."""

    name = "workspace"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from workspace import signals  # noqa: F401 - connects the receivers
