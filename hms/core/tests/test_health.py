from hms.core import views


def test_healthz_reports_ok_with_the_database_up(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"


class _DownConnection:
    def cursor(self):
        raise OSError("connection refused")


def test_healthz_answers_503_when_the_database_is_down(client, db, monkeypatch):
    monkeypatch.setattr(views, "connection", _DownConnection())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        **response.json(),
        "status": "unavailable",
        "database": "unavailable",
    }
