"""The API's error answers in the OpenAPI schema.

Every error is the JSON body `config.api_errors` builds: `{"detail": message, "extra": {...}}`. One
component, `Error`, describes it; a postprocessing hook documents on every operation the errors any
view can answer (401, 403; 400 where the request carries input; 404 where the path names an object or
the list is paginated), and views add the ones only they answer (409, 503) with `error_responses`.
"""

from typing import Any

from drf_spectacular.utils import OpenApiResponse

ERROR_REF = {"$ref": "#/components/schemas/Error"}

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every API error.",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, for a person."},
        "extra": {
            "type": "object",
            "additionalProperties": {},
            "description": 'Details for a program: invalid input\'s messages per field under "fields", '
            "or the values a domain error names.",
        },
    },
    "required": ["detail", "extra"],
}

DESCRIPTIONS = {
    400: "Invalid input, or a request the data does not allow now; the detail says which.",
    401: "No valid token or session.",
    403: "Your role in the dataset does not allow this.",
    404: "No such object in a dataset you belong to, or no such page.",
    409: "The object's state does not allow this now.",
    503: "The job queue is unavailable; nothing was changed, try again.",
}


def error_responses(*statuses: int, **descriptions: str) -> dict[int, OpenApiResponse]:
    """The `Error` body for these statuses, for `extend_schema(responses=...)`; `s409="..."` words one."""
    return {
        status: OpenApiResponse(ERROR_REF, description=descriptions.get(f"s{status}", DESCRIPTIONS[status]))
        for status in statuses
    }


def _response(status: int) -> dict[str, Any]:
    return {"description": DESCRIPTIONS[status], "content": {"application/json": {"schema": ERROR_REF}}}


def document_errors(result: dict[str, Any], generator: object, **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the `Error` component, and the errors every operation can answer."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            parameters = operation.get("parameters", [])
            statuses = [401, 403]
            if method != "get" or any(p["in"] == "query" for p in parameters) or "requestBody" in operation:
                statuses.append(400)
            if "{" in path or any(p["in"] == "query" and p["name"] == "page" for p in parameters):
                statuses.append(404)
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses):
                responses.setdefault(str(status), _response(status))
            operation["responses"] = dict(sorted(responses.items()))
    return result
