"""The vital signs a set of vitals records, and the values a living person can have.

This table is the one place those limits are written: the model's check constraints, the
form's fields and the API serializer's fields are all generated from it, so a value is refused
the same way by a page, the API and the database. (The adult reference ranges, which only flag
a value, are in `rules.py`.) No Django models here, so `models.py` can import it.
"""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class VitalSign:
    name: str  # short name, used in constraint names
    field: str
    label: str
    unit: str  # UCUM code, stored beside each value
    low: Decimal  # lowest possible value, inclusive
    high: Decimal  # highest possible value, inclusive
    max_digits: int | None = None  # set for decimal values (one decimal place); else an integer


# fmt: off
VITAL_SIGNS = (
    #         name, field, label, unit,
    #         low, high (both possible, inclusive), max_digits (decimals only)
    VitalSign("temperature", "temperature_c", "Temperature (°C)", "Cel",
              Decimal(25), Decimal(45), max_digits=4),
    VitalSign("pulse", "pulse_per_min", "Pulse (/min)", "/min",
              Decimal(20), Decimal(300)),
    VitalSign("systolic", "systolic_mmhg", "Systolic (mmHg)", "mm[Hg]",
              Decimal(40), Decimal(300)),
    VitalSign("diastolic", "diastolic_mmhg", "Diastolic (mmHg)", "mm[Hg]",
              Decimal(20), Decimal(200)),
    VitalSign("respiratory_rate", "respiratory_rate_per_min", "Respiratory rate (/min)", "/min",
              Decimal(2), Decimal(80)),
    VitalSign("spo2", "spo2_percent", "SpO₂ (%)", "%",
              Decimal(40), Decimal(100)),
    VitalSign("weight", "weight_kg", "Weight (kg)", "kg",
              Decimal("0.2"), Decimal(500), max_digits=5),
    VitalSign("height", "height_cm", "Height (cm)", "cm",
              Decimal(20), Decimal(272), max_digits=4),
)
# fmt: on
VITAL_FIELDS = tuple(sign.field for sign in VITAL_SIGNS)
DECIMAL_PLACES = 1  # of every decimal vital sign

# Units as stored (UCUM codes), shown beside each value; BMI is computed, never entered.
VITAL_UNITS = {sign.field: sign.unit for sign in VITAL_SIGNS} | {"bmi": "kg/m2"}

BLOOD_PRESSURE_MESSAGE = "Diastolic must be below systolic."


def blood_pressure_error(values: dict) -> str | None:
    """The message when both pressures are given and the systolic is not above the diastolic."""
    systolic, diastolic = values.get("systolic_mmhg"), values.get("diastolic_mmhg")
    if systolic is not None and diastolic is not None and systolic <= diastolic:
        return BLOOD_PRESSURE_MESSAGE
    return None
