# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Finnish banking days: the days a Finnish bank books payments and delivers bank files.

A banking day is a weekday that is not a Finnish bank holiday. The bank holidays are those of
the Finnish banks' common calendar (Finance Finland): New Year's Day, Epiphany, Good Friday,
Easter Monday, May Day, Ascension Day, Midsummer Eve, Independence Day, Christmas Eve, Christmas
Day and Boxing Day. Midsummer Day and All Saints' Day always fall on a Saturday.

Used to tell when a banking day passed without a bank file: the daily monitoring the service
promises.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import lru_cache

ONE_DAY = dt.timedelta(days=1)


def easter_sunday(year: int) -> dt.date:
    """Western Easter Sunday of ``year`` (the anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


@lru_cache(maxsize=64)
def finnish_bank_holidays(year: int) -> dict[dt.date, str]:
    """The Finnish bank holidays of ``year``: {date: name}."""
    easter = easter_sunday(year)
    # Midsummer Eve: the Friday between 19 and 25 June.
    june19 = dt.date(year, 6, 19)
    midsummer_eve = june19 + dt.timedelta(days=(4 - june19.weekday()) % 7)
    return {
        dt.date(year, 1, 1): "New Year's Day",
        dt.date(year, 1, 6): "Epiphany",
        easter - 2 * ONE_DAY: "Good Friday",
        easter + ONE_DAY: "Easter Monday",
        dt.date(year, 5, 1): "May Day",
        easter + 39 * ONE_DAY: "Ascension Day",
        midsummer_eve: "Midsummer Eve",
        dt.date(year, 12, 6): "Independence Day",
        dt.date(year, 12, 24): "Christmas Eve",
        dt.date(year, 12, 25): "Christmas Day",
        dt.date(year, 12, 26): "Boxing Day",
    }


def is_banking_day(day: dt.date) -> bool:
    """True when Finnish banks book payments on ``day``: a weekday and no bank holiday."""
    return day.weekday() < 5 and day not in finnish_bank_holidays(day.year)


def banking_days(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    """The banking days from ``start`` to ``end``, both included, in order."""
    day = start
    while day <= end:
        if is_banking_day(day):
            yield day
        day += ONE_DAY


def previous_banking_day(day: dt.date) -> dt.date:
    """The last banking day before ``day``."""
    day -= ONE_DAY
    while not is_banking_day(day):
        day -= ONE_DAY
    return day


def missed_banking_days(last_file: dt.date | None, today: dt.date) -> list[dt.date]:
    """The banking days that passed without a bank file: after ``last_file`` (the day of the
    last file) and before ``today`` (today's file may still come). Empty without a last file:
    a journal that never had one is not monitored yet."""
    if last_file is None or last_file >= today:
        return []
    return list(banking_days(last_file + ONE_DAY, today - ONE_DAY))
