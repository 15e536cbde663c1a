from django.urls import path

from workspace.apis import candidates, datasets, exports, imports, invites

urlpatterns = [
    path("datasets/", datasets.DatasetListApi.as_view(), name="api-dataset-list"),
    path("datasets/<int:dataset_id>/", datasets.DatasetDetailApi.as_view(), name="api-dataset-detail"),
    path("datasets/<int:dataset_id>/members/", datasets.MembershipListApi.as_view(), name="api-member-list"),
    path("datasets/<int:dataset_id>/invites/", invites.InviteListApi.as_view(), name="api-invite-list"),
    path(
        "datasets/<int:dataset_id>/invites/<int:invite_id>/",
        invites.InviteDetailApi.as_view(),
        name="api-invite-detail",
    ),
    path(
        "datasets/<int:dataset_id>/members/<str:username>/",
        datasets.MembershipDetailApi.as_view(),
        name="api-member-detail",
    ),
    path("datasets/<int:dataset_id>/imports/", imports.ImportJobListApi.as_view(), name="api-import-list"),
    path("imports/<int:job_id>/", imports.ImportJobDetailApi.as_view(), name="api-import-detail"),
    path("imports/<int:job_id>/errors/", imports.ImportJobErrorsApi.as_view(), name="api-import-errors"),
    path(
        "imports/<int:job_id>/cancel/",
        imports.ImportJobActionApi.as_view(job_action="cancel"),
        name="api-import-cancel",
    ),
    path(
        "imports/<int:job_id>/retry/",
        imports.ImportJobActionApi.as_view(job_action="retry"),
        name="api-import-retry",
    ),
    path("datasets/<int:dataset_id>/exports/", exports.ExportListApi.as_view(), name="api-export-list"),
    path("exports/<int:export_id>/", exports.ExportDetailApi.as_view(), name="api-export-detail"),
    path("exports/<int:export_id>/download/", exports.ExportDownloadApi.as_view(), name="api-export-download"),
    path(
        "exports/<int:export_id>/cancel/",
        exports.ExportActionApi.as_view(job_action="cancel"),
        name="api-export-cancel",
    ),
    path(
        "exports/<int:export_id>/retry/",
        exports.ExportActionApi.as_view(job_action="retry"),
        name="api-export-retry",
    ),
    path(
        "datasets/<int:dataset_id>/candidates/", candidates.CandidateRunListApi.as_view(), name="api-candidate-list"
    ),
    path("candidates/<int:run_id>/", candidates.CandidateRunDetailApi.as_view(), name="api-candidate-detail"),
    path(
        "candidates/<int:run_id>/cancel/",
        candidates.CandidateRunActionApi.as_view(job_action="cancel"),
        name="api-candidate-cancel",
    ),
    path(
        "candidates/<int:run_id>/retry/",
        candidates.CandidateRunActionApi.as_view(job_action="retry"),
        name="api-candidate-retry",
    ),
]
