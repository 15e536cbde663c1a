from django.apps import AppConfig


class LabelingConfig(AppConfig):
    name = "labeling"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from config.jobs.signals import swept
        from labeling.receivers import pair_conflicts_due

        swept.connect(pair_conflicts_due, dispatch_uid="labeling.pair_conflicts_due")
