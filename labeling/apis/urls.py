from django.urls import path

from labeling.apis import annotations, gold, judging, progress, quality, queries, review, tasks, taxonomy

urlpatterns = [
    path("datasets/<int:dataset_id>/progress/", progress.DatasetProgressApi.as_view(), name="api-dataset-progress"),
    path("datasets/<int:dataset_id>/tasks/next/", tasks.TaskNextApi.as_view(), name="api-task-next"),
    path("datasets/<int:dataset_id>/tasks/undo/", tasks.TaskUndoApi.as_view(), name="api-task-undo"),
    path("datasets/<int:dataset_id>/queries/next/", judging.QueryNextApi.as_view(), name="api-query-next"),
    path("datasets/<int:dataset_id>/queries/submit/", judging.QuerySubmitApi.as_view(), name="api-query-submit"),
    path("tasks/<int:task_id>/submit/", tasks.TaskSubmitApi.as_view(), name="api-task-submit"),
    path("tasks/<int:task_id>/skip/", tasks.TaskSkipApi.as_view(), name="api-task-skip"),
    path("datasets/<int:dataset_id>/annotations/", annotations.AnnotationListApi.as_view(), name="api-annotation-list"),
    path("datasets/<int:dataset_id>/review/", review.ReviewQueueApi.as_view(), name="api-review-queue"),
    path("tasks/<int:task_id>/review/", review.TaskReviewApi.as_view(), name="api-task-review"),
    path("datasets/<int:dataset_id>/quality/", quality.QualityReportApi.as_view(), name="api-quality"),
    path("quality-reports/<int:report_id>/", quality.QualityReportDetailApi.as_view(), name="api-quality-report"),
    path(
        "quality-reports/<int:report_id>/cancel/",
        quality.QualityReportActionApi.as_view(job_action="cancel"),
        name="api-quality-report-cancel",
    ),
    path(
        "quality-reports/<int:report_id>/retry/",
        quality.QualityReportActionApi.as_view(job_action="retry"),
        name="api-quality-report-retry",
    ),
    path("tasks/<int:task_id>/history/", quality.TaskHistoryApi.as_view(), name="api-task-history"),
    path("datasets/<int:dataset_id>/gold/", gold.GoldApi.as_view(), name="api-gold"),
    path("datasets/<int:dataset_id>/taxonomy/", taxonomy.TaxonomyApi.as_view(), name="api-taxonomy"),
    path(
        "datasets/<int:dataset_id>/taxonomy/changes/",
        taxonomy.TaxonomyChangesApi.as_view(),
        name="api-taxonomy-changes",
    ),
    path("datasets/<int:dataset_id>/ranking/", queries.RankingReportApi.as_view(), name="api-ranking"),
]
