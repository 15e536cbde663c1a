from django.apps import AppConfig


class ModelsAppConfig(AppConfig):
    verbose_name = "Models"
    name = "models_app"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from labeling.signals import answers_submitted
        from models_app.receivers import training_check

        answers_submitted.connect(training_check, dispatch_uid="models_app.training_check")
