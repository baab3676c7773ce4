# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from decimal import Decimal

import pytest

from nordic_billing import allocation, money


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (60.0, "60.00"),
        (0.1 + 0.2, "0.30"),
        (-12.345, "-12.34"),  # half to even, as Decimal rounds
        (12.355, "12.36"),
        (7, "7.00"),
        ("19.9", "19.90"),
        (Decimal("1.005"), "1.00"),
        (None, "0.00"),
        (False, "0.00"),
    ],
)
def test_to_decimal(value, expected):
    result = money.to_decimal(value)
    assert result == Decimal(expected)
    assert str(result) == expected


@pytest.mark.parametrize("value", [float("nan"), float("inf"), Decimal("NaN")])
def test_to_decimal_refuses_what_is_not_an_amount(value):
    with pytest.raises(money.MoneyError, match="not an amount"):
        money.to_decimal(value)


def test_cents_both_ways():
    assert money.cents_of(60.5) == 6050
    assert money.cents_of(-0.05) == -5
    assert money.to_cents(Decimal("60.00")) == 6000
    assert money.to_cents(6000) == 6000
    assert money.from_cents(6050) == Decimal("60.50")
    assert str(money.from_cents(-5)) == "-0.05"
    for cents in (-10001, -1, 0, 1, 99, 123456789):
        assert money.cents_of(float(money.from_cents(cents))) == cents


def test_fraction_of_a_cent_is_refused_not_rounded():
    with pytest.raises(money.MoneyError, match="not a whole number of cents"):
        money.to_cents(Decimal("12.345"))


def test_allocation_keeps_its_names():
    assert allocation.to_cents is money.to_cents
    assert allocation.from_cents is money.from_cents
    assert issubclass(allocation.AllocationError, money.MoneyError)
