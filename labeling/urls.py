from django.urls import path

from labeling import history_views, judge_views, quality_views, queries_views, review_views, taxonomy_views, views

app_name = "labeling"

urlpatterns = [
    path("datasets/<int:dataset_id>/annotate/", views.annotate, name="annotate"),
    path("datasets/<int:dataset_id>/undo/", views.undo, name="undo"),
    path("datasets/<int:dataset_id>/annotate/list/", judge_views.judge_list, name="judge-list"),
    path("datasets/<int:dataset_id>/annotate/list/confirm/", judge_views.judge_list_confirm, name="judge-list-confirm"),
    path("datasets/<int:dataset_id>/annotate/list/skip/", judge_views.judge_list_skip, name="judge-list-skip"),
    path("datasets/<int:dataset_id>/annotate/list/undo/", judge_views.judge_list_undo, name="judge-list-undo"),
    path("datasets/<int:dataset_id>/labels/search/", views.label_search_results, name="label-search"),
    path("datasets/<int:dataset_id>/labels/tree/", views.label_tree_children, name="label-tree"),
    path("tasks/<int:task_id>/submit/", views.task_submit, name="submit"),
    path("tasks/<int:task_id>/skip/", views.task_skip, name="skip"),
    path("datasets/<int:dataset_id>/review/", review_views.review_page, name="review"),
    path("datasets/<int:dataset_id>/review/<int:task_id>/", review_views.review_decide_page, name="review-decide"),
    path("datasets/<int:dataset_id>/quality/", quality_views.quality_page, name="quality"),
    path("datasets/<int:dataset_id>/quality/compute/", quality_views.quality_compute, name="quality-compute"),
    path("datasets/<int:dataset_id>/quality/gold/", quality_views.quality_gold, name="quality-gold"),
    path(
        "quality-reports/<int:report_id>/<job_action:action>/",
        quality_views.quality_report_action,
        name="quality-report-action",
    ),
    path("datasets/<int:dataset_id>/taxonomy/", taxonomy_views.taxonomy_page, name="taxonomy"),
    path("datasets/<int:dataset_id>/taxonomy/change/", taxonomy_views.taxonomy_change, name="taxonomy-change"),
    path("datasets/<int:dataset_id>/taxonomy/branch/", taxonomy_views.taxonomy_branch, name="taxonomy-branch"),
    path("datasets/<int:dataset_id>/taxonomy/paths/", taxonomy_views.taxonomy_paths, name="taxonomy-paths"),
    path(
        "datasets/<int:dataset_id>/taxonomy/labels/<int:label_id>/synonyms/",
        taxonomy_views.taxonomy_synonyms,
        name="taxonomy-synonyms",
    ),
    path("datasets/<int:dataset_id>/queries/", queries_views.queries_page, name="queries"),
    path(
        "datasets/<int:dataset_id>/tasks/<int:task_id>/history/",
        history_views.task_history_page,
        name="task-history",
    ),
]
