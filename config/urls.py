from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config.favicon import favicon
from config.health import healthz
from config.jobs.views import JobActionConverter

register_converter(JobActionConverter, "job_action")

api_patterns = [
    path("", include("datasets.apis.urls")),
    path("", include("labeling.apis.urls")),
    path("", include("models_app.apis.urls")),
    path("", include("workspace.apis.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the Content-Security-Policy runs no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="workspace:list", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    path("datasets/", include("workspace.urls")),
    path("", include("labeling.urls")),
    path("", include("models_app.urls")),
]

# A URL no route matches answers JSON under /api/, like every other API error.
handler404 = "config.api_errors.page_not_found"
