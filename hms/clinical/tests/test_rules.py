from decimal import Decimal

import pytest

from hms.clinical.icd10 import icd10_lookup, icd10_search
from hms.clinical.rules import allergy_matches, bmi_of, lab_flag, vital_flags


def test_bmi_is_weight_over_height_squared_to_one_decimal():
    assert bmi_of(Decimal("70"), Decimal("175")) == Decimal("22.9")
    assert bmi_of(Decimal("70"), None) is None


@pytest.mark.parametrize(
    ("field", "value", "flag"),
    [
        ("temperature_c", "38.4", "high"),
        ("temperature_c", "35.2", "low"),
        ("temperature_c", "36.8", None),
        ("pulse_per_min", 120, "high"),
        ("pulse_per_min", 45, "low"),
        ("systolic_mmhg", 165, "high"),
        ("diastolic_mmhg", 95, "high"),
        ("respiratory_rate_per_min", 28, "high"),
        ("spo2_percent", 91, "low"),
        ("spo2_percent", 100, None),
        ("bmi", "31.2", "high"),
    ],
)
def test_vitals_outside_the_adult_range_are_flagged(field, value, flag):
    assert vital_flags({field: Decimal(str(value))}).get(field) == flag


@pytest.mark.parametrize(
    ("value", "flag"),
    [("4.0", "normal"), ("3.2", "low"), ("5.6", "high"), ("2.5", "critical"), ("7.1", "critical")],
)
def test_lab_flags_against_reference_and_critical_limits(value, flag):
    assert (
        lab_flag(Decimal(value), low="3.5", high="5.1", critical_low="2.5", critical_high="6.5")
        == flag
    )


def test_lab_flag_is_blank_without_a_range_or_a_number():
    assert lab_flag(None, low=1, high=2) == ""
    assert lab_flag(Decimal(3)) == ""


def test_a_drug_matches_an_allergy_by_name_or_by_class():
    assert allergy_matches("Amoxicillin 500 mg capsules", ["Penicillin"]) == ["Penicillin"]
    assert allergy_matches("Aspirin", ["aspirin", "Peanuts"]) == ["aspirin"]
    assert allergy_matches("Ibuprofen", ["NSAIDs", "Latex"]) == []  # plural class not known
    assert allergy_matches("Ibuprofen", ["NSAID"]) == ["NSAID"]
    assert allergy_matches("Paracetamol", ["Penicillin"]) == []


def test_icd10_codes_are_checked_against_the_full_code_set():
    assert icd10_lookup("e119").code == "E11.9"
    assert icd10_lookup("S52.521A") is not None  # 7th-character codes are valid
    assert icd10_lookup("A00-A09") is None  # a block is a heading, not a diagnosis
    assert icd10_lookup("X99.999") is None


def test_icd10_search_finds_by_code_prefix_and_by_words():
    assert icd10_search("I10")[0].code == "I10"
    assert any(c.code == "E11.9" for c in icd10_search("type 2 diabetes without complications"))
    assert icd10_search("zzzz") == []


def test_a_search_during_the_background_warm_up_waits_for_the_whole_index(monkeypatch):
    from hms.clinical import icd10

    monkeypatch.setattr(icd10, "_built", None)
    icd10.icd10_warm()
    assert icd10_search("asthma uncomplicated")[0].code == "J45.909"  # the common code first
    assert len(icd10._index().codes) > 90_000
