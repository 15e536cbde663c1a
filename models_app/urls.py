from django.urls import path

from models_app import experiment_views, views

app_name = "models_app"

urlpatterns = [
    path("datasets/<int:dataset_id>/models/", views.model_page, name="page"),
    path("datasets/<int:dataset_id>/models/train/", views.model_train, name="train"),
    path("models/<int:version_id>/<job_action:action>/", views.model_version_action, name="version-action"),
    path("datasets/<int:dataset_id>/experiments/", experiment_views.experiment_page, name="experiments"),
    path("experiments/<int:experiment_id>/apply/", experiment_views.experiment_use, name="experiment-apply"),
    path(
        "experiments/<int:experiment_id>/<job_action:action>/",
        experiment_views.experiment_action,
        name="experiment-action",
    ),
]
