from django.urls import path

from labeling import views

app_name = "labeling"

urlpatterns = [
    path("datasets/<int:dataset_id>/annotate/", views.annotate, name="annotate"),
    path("datasets/<int:dataset_id>/undo/", views.undo, name="undo"),
    path("datasets/<int:dataset_id>/labels/search/", views.label_search_results, name="label-search"),
    path("tasks/<int:task_id>/submit/", views.task_submit, name="submit"),
    path("tasks/<int:task_id>/skip/", views.task_skip, name="skip"),
]
