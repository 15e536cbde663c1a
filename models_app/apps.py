from django.apps import AppConfig


class ModelsAppConfig(AppConfig):
    verbose_name = "Models"
    name = "models_app"
    default_auto_field = "django.db.models.BigAutoField"
