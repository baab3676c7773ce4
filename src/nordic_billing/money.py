# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Money as the project handles it: :class:`~decimal.Decimal` currency units with two decimals,
or an ``int`` number of cents; floats only where they come from (Odoo's monetary fields).

One helper for each crossing, so that an amount is turned into cents or Decimals the same way
everywhere:

- :func:`to_decimal`: a float, int, str or Decimal amount in currency units -> Decimal with two
  decimals (``60.0 -> Decimal("60.00")``); a float is read as it prints (``0.1 + 0.2`` is
  ``0.30``), and ``None``/``False`` (an empty Odoo field) is zero;
- :func:`to_cents`: a Decimal in currency units -> int cents, refusing a fraction of a cent
  (an ``int`` is taken as cents already);
- :func:`cents_of`: a float (or any amount :func:`to_decimal` takes) -> int cents;
- :func:`from_cents`: int cents -> Decimal with two decimals.
"""

from __future__ import annotations

from decimal import Decimal

CENT = Decimal("0.01")

Money = Decimal | int
"""An amount: a Decimal in currency units, or an int number of cents."""


class MoneyError(ValueError):
    """An amount that is not a whole number of cents (or not a number at all)."""


def to_decimal(value: float | int | str | Decimal | None) -> Decimal:
    """Currency units with two decimals, rounded half to even to the cent."""
    if value is None or value is False:
        return Decimal("0.00")
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    if not amount.is_finite():
        raise MoneyError(f"{value} is not an amount.")
    return amount.quantize(CENT)


def to_cents(amount: Money) -> int:
    """Cents of an amount: an int is taken as cents already, a Decimal as currency units.

    A Decimal with a fraction of a cent raises :class:`MoneyError`: nothing is rounded here.
    """
    if isinstance(amount, int):
        return amount
    cents = amount.scaleb(2)
    if not cents.is_finite() or cents != cents.to_integral_value():
        raise MoneyError(f"{amount} is not a whole number of cents.")
    return int(cents)


def cents_of(value: float | int | str | Decimal | None) -> int:
    """Cents of an amount in currency units, e.g. an Odoo monetary float: ``60.5 -> 6050``."""
    return to_cents(to_decimal(value))


def from_cents(cents: int) -> Decimal:
    """Currency units with two decimals: ``6000 -> Decimal("60.00")``."""
    return Decimal(cents).scaleb(-2)
