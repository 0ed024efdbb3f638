"""The database itself refuses what the accounts rules forbid, whatever code writes."""

import pytest
from django.db import IntegrityError, transaction

from hms.accounts.models import StaffProfile, User
from hms.accounts.tests.factories import StaffProfileFactory, UserFactory


@pytest.mark.django_db
def test_two_accounts_cannot_share_an_email_in_any_letter_case():
    UserFactory(email="sam@example.org")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="SAM@example.org", given_name="S", family_name="X")


@pytest.mark.django_db
def test_a_role_outside_the_catalogue_is_refused():
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="w@example.org", given_name="W", family_name="Z", role="wizard")


@pytest.mark.django_db
def test_a_licence_number_belongs_to_one_staff_member_but_many_may_have_none():
    StaffProfileFactory(licence_number="GMC-1")
    StaffProfileFactory(licence_number="")
    StaffProfileFactory(licence_number="")
    with pytest.raises(IntegrityError), transaction.atomic():
        StaffProfile.objects.create(user=UserFactory(role="doctor"), licence_number="GMC-1")
