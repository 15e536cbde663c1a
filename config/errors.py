"""The one domain exception: services raise it, the API and the pages turn it into a clear message.

`status` is the HTTP status the API answers with: 400 unless a subclass says otherwise.
"""

from typing import Any, ClassVar


class ApplicationError(Exception):
    status: ClassVar[int] = 400

    def __init__(self, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class ConflictError(ApplicationError):
    """The request is valid but the record's state forbids it now (cancel a finished job, say)."""

    status = 409


class ServiceUnavailableError(ApplicationError):
    """A service the request needs (the job broker) is down; nothing was changed, try again later."""

    status = 503
