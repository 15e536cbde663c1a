from django.urls import path

from workspace import candidate_views, export_views, import_views, member_views, views

app_name = "workspace"

urlpatterns = [
    path("", views.dataset_list_page, name="list"),
    path("new/", views.dataset_create_page, name="create"),
    path("<int:dataset_id>/", views.dataset_detail, name="detail"),
    path("<int:dataset_id>/settings/", views.dataset_settings, name="settings"),
    path("<int:dataset_id>/members/", member_views.member_add, name="member-add"),
    path("<int:dataset_id>/members/<str:username>/", member_views.member_detail, name="member"),
    path("<int:dataset_id>/members/<str:username>/remove/", member_views.member_remove, name="member-remove"),
    path("<int:dataset_id>/invites/", member_views.invite_new, name="invite-new"),
    path(
        "<int:dataset_id>/invites/<int:invite_id>/withdraw/",
        member_views.invite_withdraw_view,
        name="invite-withdraw",
    ),
    path("invite/<str:token>/", member_views.invite_page, name="invite"),
    path("<int:dataset_id>/imports/", views.import_upload, name="import-upload"),
    path("imports/<int:job_id>/", views.import_detail, name="import-detail"),
    path("imports/<int:job_id>/mapping/", views.import_mapping, name="import-mapping"),
    path("imports/<int:job_id>/errors.csv", views.import_errors, name="import-errors"),
    path("<int:dataset_id>/exports/", export_views.export_page, name="exports"),
    path("exports/<int:export_id>/download/", export_views.export_download, name="export-download"),
    path("exports/<int:export_id>/<job_action:action>/", export_views.export_action, name="export-action"),
    path("imports/<int:job_id>/<job_action:action>/", import_views.import_action, name="import-action"),
    path("<int:dataset_id>/candidates/", candidate_views.candidates_page, name="candidates"),
    path("candidates/<int:run_id>/<job_action:action>/", candidate_views.candidate_action, name="candidate-action"),
]
