import pytest

from hms.accounts.services import api_token_issue
from hms.scheduling.tests.conftest import at  # noqa: F401  (re-exported for the tests)
from hms.scheduling.tests.factories import weekly_schedule


@pytest.fixture
def schedule(db):
    return weekly_schedule()


@pytest.fixture
def doctor(schedule):
    return schedule.practitioner


@pytest.fixture
def token_for(db):
    """A bearer token for a user (two-factor passed, as an administrator's must be)."""

    def issue(user) -> dict:
        secret, _ = api_token_issue(user=user, two_factor=True)
        return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    return issue
