from django.urls import path

from models_app.apis import versions

urlpatterns = [
    path("datasets/<int:dataset_id>/models/", versions.ModelVersionListApi.as_view(), name="api-model-list"),
    path("datasets/<int:dataset_id>/models/train/", versions.ModelTrainApi.as_view(), name="api-model-train"),
    path("models/<int:version_id>/", versions.ModelVersionDetailApi.as_view(), name="api-model-detail"),
]
