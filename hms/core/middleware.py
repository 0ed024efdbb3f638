from hms.core.audit import current_request


class AuditContextMiddleware:
    """Makes the current request (user, IP, user agent) available to audit_record()."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)
