from django.urls import path

from labeling.apis import annotations, tasks

urlpatterns = [
    path("datasets/<int:dataset_id>/tasks/next/", tasks.TaskNextApi.as_view(), name="api-task-next"),
    path("datasets/<int:dataset_id>/tasks/undo/", tasks.TaskUndoApi.as_view(), name="api-task-undo"),
    path("tasks/<int:task_id>/submit/", tasks.TaskSubmitApi.as_view(), name="api-task-submit"),
    path("tasks/<int:task_id>/skip/", tasks.TaskSkipApi.as_view(), name="api-task-skip"),
    path("datasets/<int:dataset_id>/annotations/", annotations.AnnotationListApi.as_view(), name="api-annotation-list"),
]
