"""A refused request is one line in the log; a server error keeps its traceback."""

import io
import logging
import uuid
from logging import StreamHandler

import pytest
from django.test import Client

from hms.core.permissions import Role


@pytest.fixture
def log_output():
    """What the console handler of settings.LOGGING writes."""
    (handler,) = [h for h in logging.getLogger("django").handlers if type(h) is StreamHandler]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


@pytest.mark.django_db
def test_a_refused_request_writes_one_line_without_a_traceback(client_for, log_output):
    client = client_for(Role.NURSE)
    assert client.get("/accounts/staff/").status_code == 403
    assert client.get(f"/patients/{uuid.uuid4()}/").status_code == 404
    assert client.post("/api/v1/patients/", {}, "application/json").status_code in (400, 403)
    lines = log_output.getvalue().splitlines()
    assert "Traceback" not in log_output.getvalue()
    assert any(line.startswith("Forbidden") for line in lines)
    assert any(line.startswith("Not Found") for line in lines)
    assert len(lines) == 3


@pytest.mark.django_db
@pytest.mark.urls("hms.core.tests.urls_failing")
def test_a_server_error_still_logs_its_traceback(log_output):
    assert Client(raise_request_exception=False).get("/fails/").status_code == 500
    assert "Traceback" in log_output.getvalue()
    assert "RuntimeError: a bug" in log_output.getvalue()
