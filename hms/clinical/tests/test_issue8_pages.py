"""The encounter page's HTML ids, and the ICD-10 search's order (issue 8, point 21)."""

import re
from collections import Counter

import pytest
from django.urls import reverse

from hms.clinical.icd10 import icd10_search
from hms.clinical.tests.factories import EncounterFactory
from hms.core.permissions import Role

pytestmark = pytest.mark.django_db


def test_no_two_elements_of_the_encounter_page_share_an_id(client_for):
    client = client_for(Role.DOCTOR)
    encounter = EncounterFactory(practitioner=client.user)
    page = client.get(reverse("clinical:encounter", args=[encounter.pk])).content.decode()
    ids = Counter(re.findall(r'\sid="([^"]+)"', page))
    assert [name for name, n in ids.items() if n > 1] == []
    assert 'for="diagnosis_description"' in page and 'for="attachment_description"' in page


def test_a_word_search_lists_common_codes_first():
    codes = [c.code for c in icd10_search("diabetes")]
    assert codes.index("E11") < codes.index("E08")
    assert codes[0] == "E11.9"
