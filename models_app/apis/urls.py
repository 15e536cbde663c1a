from django.urls import path

from models_app.apis import experiments, versions

urlpatterns = [
    path("datasets/<int:dataset_id>/models/", versions.ModelVersionListApi.as_view(), name="api-model-list"),
    path("datasets/<int:dataset_id>/models/train/", versions.ModelTrainApi.as_view(), name="api-model-train"),
    path("models/<int:version_id>/", versions.ModelVersionDetailApi.as_view(), name="api-model-detail"),
    path(
        "models/<int:version_id>/cancel/", versions.ModelVersionActionApi.as_view(job_action="cancel"),
        name="api-model-cancel",
    ),
    path(
        "models/<int:version_id>/retry/", versions.ModelVersionActionApi.as_view(job_action="retry"),
        name="api-model-retry",
    ),
    path("datasets/<int:dataset_id>/experiments/", experiments.ExperimentListApi.as_view(), name="api-experiment-list"),
    path("experiments/<int:experiment_id>/", experiments.ExperimentDetailApi.as_view(), name="api-experiment-detail"),
    path(
        "experiments/<int:experiment_id>/cancel/",
        experiments.ExperimentActionApi.as_view(job_action="cancel"),
        name="api-experiment-cancel",
    ),
    path(
        "experiments/<int:experiment_id>/retry/",
        experiments.ExperimentActionApi.as_view(job_action="retry"),
        name="api-experiment-retry",
    ),
    path(
        "experiments/<int:experiment_id>/apply/", experiments.ExperimentApplyApi.as_view(), name="api-experiment-apply"
    ),
]
