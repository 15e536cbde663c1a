"""Log records of expected refusals stay one line."""

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404

# A role too low or another dataset's id is the app working as meant: Django logs the request line, and the
# traceback it attaches says nothing a reader of the log needs.
EXPECTED = (PermissionDenied, Http404)


class ExpectedErrorsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], EXPECTED):
            record.exc_info = None
            record.exc_text = None
        return True
