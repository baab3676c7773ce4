# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime as dt

import pytest

from nordic_billing.banking_days import (
    banking_days,
    easter_sunday,
    finnish_bank_holidays,
    is_banking_day,
    missed_banking_days,
    previous_banking_day,
)

D = dt.date


@pytest.mark.parametrize(
    ("year", "easter"),
    [(2024, D(2024, 3, 31)), (2025, D(2025, 4, 20)), (2026, D(2026, 4, 5)), (2038, D(2038, 4, 25))],
)
def test_easter(year, easter):
    assert easter_sunday(year) == easter


def test_holidays_2026():
    assert sorted(finnish_bank_holidays(2026)) == [
        D(2026, 1, 1),
        D(2026, 1, 6),
        D(2026, 4, 3),  # Good Friday
        D(2026, 4, 6),  # Easter Monday
        D(2026, 5, 1),
        D(2026, 5, 14),  # Ascension Day
        D(2026, 6, 19),  # Midsummer Eve
        D(2026, 12, 6),
        D(2026, 12, 24),
        D(2026, 12, 25),
        D(2026, 12, 26),
    ]


def test_midsummer_eve_is_the_friday_between_19_and_25_june():
    for year in range(2020, 2040):
        eve = next(day for day, name in finnish_bank_holidays(year).items() if "Midsummer" in name)
        assert eve.weekday() == 4 and 19 <= eve.day <= 25 and eve.month == 6


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 12, 4), True),  # Friday
        (D(2026, 12, 5), False),  # Saturday
        (D(2026, 12, 7), True),  # Monday after Independence Day (a Sunday)
        (D(2026, 12, 24), False),  # Thursday, Christmas Eve
        (D(2026, 12, 28), True),
        (D(2026, 4, 3), False),  # Good Friday
        (D(2026, 4, 6), False),  # Easter Monday
        (D(2026, 4, 7), True),
    ],
)
def test_is_banking_day(day, expected):
    assert is_banking_day(day) is expected


def test_banking_days_over_christmas():
    assert list(banking_days(D(2026, 12, 23), D(2026, 12, 31))) == [
        D(2026, 12, 23),
        D(2026, 12, 28),
        D(2026, 12, 29),
        D(2026, 12, 30),
        D(2026, 12, 31),
    ]
    assert previous_banking_day(D(2026, 12, 28)) == D(2026, 12, 23)
    assert previous_banking_day(D(2026, 4, 7)) == D(2026, 4, 2)


def test_missed_banking_days():
    # Last file on Friday: nothing missed on Monday morning, Monday missed on Tuesday.
    assert missed_banking_days(D(2026, 11, 27), D(2026, 11, 30)) == []
    assert missed_banking_days(D(2026, 11, 27), D(2026, 12, 1)) == [D(2026, 11, 30)]
    # Over Easter: the file of Thursday, nothing due until Tuesday.
    assert missed_banking_days(D(2026, 4, 2), D(2026, 4, 7)) == []
    assert missed_banking_days(D(2026, 4, 2), D(2026, 4, 9)) == [D(2026, 4, 7), D(2026, 4, 8)]
    assert missed_banking_days(D(2026, 12, 4), D(2026, 12, 4)) == []
    assert missed_banking_days(None, D(2026, 12, 4)) == []
