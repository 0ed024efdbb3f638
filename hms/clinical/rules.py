"""Pure clinical rules: reference ranges, computed values and matching. No database here."""

from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

# Adult reference ranges (inclusive) for vital signs; outside them a value is flagged.
ADULT_VITAL_RANGES: dict[str, tuple[Decimal | None, Decimal | None]] = {
    "temperature_c": (Decimal("36.0"), Decimal("37.5")),
    "pulse_per_min": (Decimal(60), Decimal(100)),
    "systolic_mmhg": (Decimal(90), Decimal(139)),
    "diastolic_mmhg": (Decimal(60), Decimal(89)),
    "respiratory_rate_per_min": (Decimal(12), Decimal(20)),
    "spo2_percent": (Decimal(95), None),
    "bmi": (Decimal("18.5"), Decimal("24.9")),
}


def bmi_of(weight_kg, height_cm) -> Decimal | None:
    """Body mass index, kg/m², to one decimal place; None unless both are known."""
    if weight_kg is None or height_cm is None or Decimal(height_cm) <= 0:
        return None
    metres = Decimal(height_cm) / 100
    return (Decimal(weight_kg) / (metres * metres)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def vital_flags(values: dict) -> dict[str, str]:
    """{"field": "low" | "high"} for every value outside the adult reference range."""
    flags: dict[str, str] = {}
    for field, (low, high) in ADULT_VITAL_RANGES.items():
        value = values.get(field)
        if value is None:
            continue
        value = Decimal(value)
        if low is not None and value < low:
            flags[field] = "low"
        elif high is not None and value > high:
            flags[field] = "high"
    return flags


def lab_flag(value, *, low=None, high=None, critical_low=None, critical_high=None) -> str:
    """normal / low / high / critical for a numeric result; "" when it cannot be judged."""
    if value is None:
        return ""
    value = Decimal(value)
    if (critical_low is not None and value <= Decimal(critical_low)) or (
        critical_high is not None and value >= Decimal(critical_high)
    ):
        return "critical"
    if low is not None and value < Decimal(low):
        return "low"
    if high is not None and value > Decimal(high):
        return "high"
    if low is None and high is None:
        return ""
    return "normal"


# Drug classes an allergy name stands for: an allergy to the class matches each member.
DRUG_CLASSES: dict[str, set[str]] = {
    "penicillin": {
        "amoxicillin",
        "ampicillin",
        "flucloxacillin",
        "phenoxymethylpenicillin",
        "benzylpenicillin",
        "piperacillin",
        "co-amoxiclav",
        "penicillin",
    },
    "sulfonamide": {"sulfamethoxazole", "co-trimoxazole", "trimethoprim-sulfamethoxazole"},
    "nsaid": {"ibuprofen", "naproxen", "diclofenac", "aspirin", "celecoxib", "ketorolac"},
    "aspirin": {"aspirin", "acetylsalicylic"},
    "cephalosporin": {"cefalexin", "cephalexin", "ceftriaxone", "cefuroxime", "cefazolin"},
    "codeine": {"codeine", "co-codamol"},
    "opioid": {"morphine", "codeine", "oxycodone", "tramadol", "fentanyl", "hydrocodone"},
}
_CLASS_ALIASES = {"penicillins": "penicillin", "sulfa": "sulfonamide", "sulpha": "sulfonamide"}


def _words(text: str) -> set[str]:
    cleaned = "".join(c if c.isalnum() or c == "-" else " " for c in text.lower())
    return {w for w in cleaned.split() if len(w) >= 3}


def allergy_matches(drug: str, substances: list[str]) -> list[str]:
    """The recorded allergy substances that the drug name matches (same word, or a drug of a
    class the patient is allergic to)."""
    drug_words = _words(drug)
    matched = []
    for substance in substances:
        substance_words = _words(substance)
        members: set[str] = set()
        for word in substance_words:
            klass = _CLASS_ALIASES.get(word, word)
            members |= DRUG_CLASSES.get(klass, set())
        if drug_words & (substance_words | members) or any(
            member in word for word in drug_words for member in members
        ):
            matched.append(substance)
    return matched


class LabTest(NamedTuple):
    """A test of the catalogue: unit, reference range, critical limits (adults) and the plausible
    limits outside which a value is impossible (a typing or instrument error), all in `unit`."""

    name: str
    unit: str
    low: str | None
    high: str | None
    critical_low: str | None
    critical_high: str | None
    plausible_low: str
    plausible_high: str


# A small catalogue of common tests (LOINC).
LAB_TESTS: dict[str, LabTest] = {
    "2345-7": LabTest("Glucose", "mmol/L", "3.9", "5.5", "2.5", "25", "0", "150"),
    "718-7": LabTest("Haemoglobin", "g/L", "120", "170", "70", "200", "10", "300"),
    "6690-2": LabTest("White cell count", "10*9/L", "4.0", "11.0", "1.0", "30", "0", "1000"),
    "777-3": LabTest("Platelets", "10*9/L", "150", "400", "20", "1000", "0", "5000"),
    "2951-2": LabTest("Sodium", "mmol/L", "135", "145", "120", "160", "80", "220"),
    "2823-3": LabTest("Potassium", "mmol/L", "3.5", "5.1", "2.5", "6.5", "0.5", "15"),
    "2160-0": LabTest("Creatinine", "umol/L", "60", "110", None, "700", "5", "5000"),
    "59261-8": LabTest("HbA1c", "mmol/mol", "20", "42", None, None, "10", "250"),
    "1988-5": LabTest("C-reactive protein", "mg/L", "0", "5", None, None, "0", "1000"),
    "3016-3": LabTest("TSH", "mIU/L", "0.4", "4.0", None, None, "0", "1000"),
    "2093-3": LabTest("Total cholesterol", "mmol/L", "0", "5.0", None, None, "0", "50"),
}


def lab_value_problem(test: LabTest, value, unit: str) -> str:
    """Why a numeric result of a catalogue test cannot be right ("" when it can): it must be in
    the catalogue's unit (the limits are in it) and within the test's plausible limits."""
    if unit != test.unit:
        return f"{test.name} is reported in {test.unit}."
    low, high = Decimal(test.plausible_low), Decimal(test.plausible_high)
    if not low <= Decimal(value) <= high:
        return (
            f"{Decimal(value).normalize():f} {test.unit} is not a possible {test.name.lower()} "
            f"value (possible: {low}–{high} {test.unit}). Check the entry."
        )
    return ""


def lab_test_choices() -> list[tuple[str, str]]:
    return [(code, f"{test.name} ({code})") for code, test in LAB_TESTS.items()]
