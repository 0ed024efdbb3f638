"""Logging pieces named in settings.LOGGING."""

import logging


class RefusalsOnOneLine(logging.Filter):
    """A refused request (a 4xx: PermissionDenied, Http404, a validation error) is logged as its
    one line, "Forbidden (Permission denied): /path", without the traceback Django attaches:
    a refusal is not a fault, and hundreds of tracebacks hide the real errors. 5xx keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if 400 <= getattr(record, "status_code", 0) < 500:
            record.exc_info = None
            record.exc_text = None
        return True
