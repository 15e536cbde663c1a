from django.urls import path

from models_app import views

app_name = "models_app"

urlpatterns = [
    path("datasets/<int:dataset_id>/models/", views.model_page, name="page"),
    path("datasets/<int:dataset_id>/models/train/", views.model_train, name="train"),
]
