"""The patient's balance, from billing when billing is installed.

Billing lands from another branch: until then the assistant says the balance is not available.
The import is inside the function so that this module loads either way.
"""

from decimal import Decimal


def balance_of(patient_id) -> tuple[Decimal, Decimal] | None:
    """(owed, credit) of the patient as Decimals, or None when billing is not installed."""
    try:
        from hms.billing.selectors import patient_balance
    except ImportError:
        return None
    return patient_balance(patient_id)
