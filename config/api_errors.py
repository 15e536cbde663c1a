from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import ApplicationError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error is JSON: {"detail": message, "extra": {...}}, the shape config/schema.py documents."""
    if isinstance(exc, ApplicationError):
        return Response({"detail": exc.message, "extra": exc.extra}, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": "Invalid input.", "extra": {"fields": response.data}}
    elif response is not None and isinstance(response.data, dict) and set(response.data) == {"detail"}:
        # DRF's own errors (401, 403, 404, 405, 415, ...) take the same shape, so clients read one.
        response.data = {"detail": response.data["detail"], "extra": {}}
    return response


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 for a URL no route matches (`/api/datasets/abc/`): the API's JSON error, the pages' HTML."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found.", "extra": {}}, status=404)
    return defaults.page_not_found(request, exception)
