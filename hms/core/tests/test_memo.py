from django.test import RequestFactory

from hms.core.audit import current_request
from hms.core.memo import once_per_request


def _asked(calls: list):
    def compute():
        calls.append(1)
        return len(calls)

    return compute


def test_an_answer_is_computed_once_per_request_and_forgotten_with_it():
    calls: list = []
    for expected in (1, 2):
        token = current_request.set(RequestFactory().get("/"))
        try:
            assert once_per_request("question", _asked(calls)) == expected
            assert once_per_request("question", _asked(calls)) == expected
        finally:
            current_request.reset(token)
    assert len(calls) == 2


def test_outside_a_request_every_call_computes_afresh():
    calls: list = []
    once_per_request("question", _asked(calls))
    once_per_request("question", _asked(calls))
    assert len(calls) == 2
