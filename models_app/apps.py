from django.apps import AppConfig


class ModelsAppConfig(AppConfig):
    verbose_name = "Models"
    name = "models_app"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from config.jobs.signals import swept
        from models_app.receivers import trainings_due

        swept.connect(trainings_due, dispatch_uid="models_app.trainings_due")
