# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Eligibility, the day an invoice enters the draft collection list, reminder-fee limits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from nordic_billing.collection import rules
from nordic_billing.collection.rules import (
    ReminderRuleError,
    ReminderRules,
    ReminderStep,
    check_eligibility,
    check_full_credit,
    check_reminder_steps,
    collection_entry_date,
    is_due_for_collection,
    validate_reminder_steps,
)

D = dt.date

# --------------------------------------------------------------------------- eligibility


def eligible(**changes):
    args = {
        "due_date": D(2026, 3, 1),
        "open_amount": Decimal("50.00"),
        "transfer_to_collection": True,
        "factoring": False,
        "start_date": D(2026, 1, 1),
    }
    args.update(changes)
    return check_eligibility(**args)


def test_eligible_invoice():
    assert eligible() == (True, rules.ELIGIBLE)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"due_date": None}, rules.NO_DUE_DATE),
        ({"open_amount": Decimal("0.00")}, rules.NOTHING_OPEN),
        ({"open_amount": Decimal("-5.00")}, rules.NOTHING_OPEN),  # overpaid
        ({"transfer_to_collection": False}, rules.CUSTOMER_EXCLUDED),
        ({"factoring": True}, rules.FACTORING),
        ({"due_date": D(2025, 12, 31)}, rules.DUE_BEFORE_START),
    ],
)
def test_not_eligible(changes, reason):
    assert eligible(**changes) == (False, reason)


def test_start_date_boundary():
    start = D(2026, 1, 1)
    assert eligible(due_date=D(2025, 12, 31), start_date=start)[0] is False
    assert eligible(due_date=start, start_date=start)[0] is True  # overdue from Jan 2 on
    assert eligible(due_date=D(2020, 1, 1), start_date=None)[0] is True


def test_customer_flag_defaults_to_on_and_floats_from_odoo_are_read():
    assert check_eligibility(due_date=D(2026, 3, 1), open_amount=0.01) == (True, rules.ELIGIBLE)
    assert check_eligibility(due_date=D(2026, 3, 1), open_amount=0.0)[0] is False


# --------------------------------------------------------------------------- timing

REMINDER = ReminderStep("Reminder", delay_days=7, payment_days=14)
NOTICE = ReminderStep("Inkassovarsel", delay_days=1, payment_days=14, kind="collection_notice")


@pytest.mark.parametrize(
    ("day", "expected"),
    [(13, False), (14, True), (15, True)],
)
def test_default_delay_boundary(day, expected):
    due = D(2026, 3, 10)
    assert is_due_for_collection(due, due + dt.timedelta(days=day)) is expected


def test_default_entry_is_due_date_plus_14():
    assert collection_entry_date(D(2026, 3, 10)) == D(2026, 3, 24)


@pytest.mark.parametrize(
    ("due", "entry"),
    [
        (D(2026, 1, 31), D(2026, 2, 14)),  # month end
        (D(2026, 2, 28), D(2026, 3, 14)),  # February, common year
        (D(2028, 2, 15), D(2028, 2, 29)),  # lands on the leap day
        (D(2028, 2, 29), D(2028, 3, 14)),  # due on the leap day
        (D(2026, 12, 25), D(2027, 1, 8)),  # year end
    ],
)
def test_entry_across_month_and_year_ends(due, entry):
    assert collection_entry_date(due) == entry
    assert not is_due_for_collection(due, entry - dt.timedelta(days=1))
    assert is_due_for_collection(due, entry)


def test_configurable_delay_from_the_first_overdue_day():
    due = D(2026, 3, 31)
    assert collection_entry_date(due, delay_days=1) == D(2026, 4, 1)
    assert not is_due_for_collection(due, due, delay_days=1)
    with pytest.raises(ValueError, match="at least 1 day"):
        collection_entry_date(due, delay_days=0)


def test_step_dates():
    due = D(2026, 3, 10)
    assert NOTICE.send_date(due) == D(2026, 3, 11)
    assert NOTICE.due_date(due) == D(2026, 3, 25)


def test_after_the_due_date_of_the_last_step():
    due = D(2026, 3, 10)
    # the reminder (sent day 7, 14 days to pay) is due on day 21, later than the notice (day 15)
    assert collection_entry_date(due, [NOTICE, REMINDER]) == D(2026, 4, 1)  # day 22
    assert collection_entry_date(due, [NOTICE]) == D(2026, 3, 26)  # day 16
    assert not is_due_for_collection(due, D(2026, 3, 25), [NOTICE])  # the notice's last day
    assert is_due_for_collection(due, D(2026, 3, 26), [NOTICE])


def test_ecpay_timing_notice_on_day_15_then_demand_14_days_later():
    due = D(2026, 1, 31)
    notice = ReminderStep("Inkassovarsel", 15, 14, kind="collection_notice")
    assert notice.send_date(due) == D(2026, 2, 15)
    assert collection_entry_date(due, [notice]) == D(2026, 3, 2)  # 29 days after, Feb has 28


def test_step_over_the_leap_day():
    due = D(2028, 2, 14)
    assert collection_entry_date(due, [NOTICE]) == D(2028, 3, 1)  # sent 15 Feb, due 29 Feb


def test_disabled_steps_are_ignored():
    off = ReminderStep("Old reminder", 30, 30, enabled=False)
    due = D(2026, 3, 10)
    assert collection_entry_date(due, [off]) == collection_entry_date(due)
    assert collection_entry_date(due, [off, NOTICE]) == D(2026, 3, 26)


def test_only_the_steps_passed_count():
    """PowerOffice style: a plain reminder alone keeps the 14-day rule."""
    due = D(2026, 3, 10)
    gating = [s for s in [REMINDER] if s.kind == "collection_notice"]
    assert collection_entry_date(due, gating) == D(2026, 3, 24)


def test_moved_by_hand():
    due = D(2026, 3, 10)
    assert collection_entry_date(due, [REMINDER], moved_by_hand_on=D(2026, 3, 12)) == D(2026, 3, 12)
    assert is_due_for_collection(due, D(2026, 3, 12), [REMINDER], moved_by_hand_on=D(2026, 3, 12))
    # never before the first overdue day
    assert collection_entry_date(due, moved_by_hand_on=D(2026, 3, 1)) == D(2026, 3, 11)


def test_step_checks_its_values():
    with pytest.raises(ValueError, match="negative"):
        ReminderStep("x", -1, 14)
    with pytest.raises(ValueError, match="kind"):
        ReminderStep("x", 1, 14, kind="letter")


# --------------------------------------------------------------------------- reminder fees


def fi(*steps, debtor_type="person", currency="EUR"):
    return check_reminder_steps(steps, country="FI", debtor_type=debtor_type, currency=currency)


def no(*steps, debtor_type="person"):
    return check_reminder_steps(steps, country="NO", debtor_type=debtor_type, currency="NOK")


def test_finnish_consumer_limit():
    assert fi(ReminderStep("R1", 14, 14, fee=Decimal("5.00"))) == []
    [problem] = fi(ReminderStep("R1", 14, 14, fee=Decimal("5.01")))
    assert problem == (
        "Step 'R1': the reminder fee 5.01 EUR is above the Finnish consumer limit of "
        "5.00 EUR per reminder."
    )


def test_finnish_consumer_first_fee_from_day_14():
    assert fi(ReminderStep("R1", 13, 14, fee=Decimal("5.00"))) == [
        "Step 'R1' is sent on day 13 after the due date: a Finnish consumer reminder may carry "
        "a fee only from day 14."
    ]
    assert fi(ReminderStep("R1", 13, 14, fee=Decimal("0"))) == []  # a free reminder may go
    assert fi(ReminderStep("R1", 15, 14, fee=Decimal("5.00"))) == []


def test_finnish_business_limit():
    assert fi(ReminderStep("R1", 7, 14, fee=Decimal("12.00")), debtor_type="company") == []
    [problem] = fi(ReminderStep("R1", 7, 14, fee=Decimal("12.50")), debtor_type="company")
    assert "Finnish business limit of 12.00 EUR" in problem


def test_norway_35_nok_and_at_most_two():
    purring = ReminderStep("Purring", 14, 14, fee=Decimal("35.00"))
    varsel = ReminderStep("Inkassovarsel", 28, 14, fee=Decimal("35"), kind="collection_notice")
    third = ReminderStep("Purring 2", 42, 14, fee=Decimal("35.00"))
    assert no(purring, varsel) == []
    assert no(purring, varsel, third) == [
        "3 steps charge a reminder fee; the Norwegian rules allow at most 2."
    ]
    assert no(purring, varsel, ReminderStep("Free", 42, 14)) == []  # a free third one is fine
    assert no(purring, varsel, ReminderStep("Off", 42, 14, fee=35, enabled=False)) == []
    [too_high] = no(ReminderStep("Purring", 14, 14, fee=Decimal("35.01")), debtor_type="company")
    assert "above the Norwegian limit of 35.00 NOK" in too_high


def test_norwegian_notice_gives_14_days():
    short = ReminderStep("Inkassovarsel", 14, 10, kind="collection_notice")
    assert no(short) == [
        "Step 'Inkassovarsel': a Norwegian collection notice must give at least 14 days to pay, "
        "not 10."
    ]


def test_currency_must_match_the_limit():
    [problem] = fi(ReminderStep("R1", 14, 14, fee=Decimal("5.00")), currency="SEK")
    assert "limit is in EUR; fees in SEK cannot be checked" in problem


def test_negative_fee_and_countries_without_rules():
    steps = [ReminderStep("R1", 14, 14, fee=Decimal("-1"))]
    assert check_reminder_steps(steps, country="SE", debtor_type="person", currency="SEK") == [
        "Step 'R1': the reminder fee must not be negative."
    ]
    ok = [ReminderStep("R1", 1, 14, fee=Decimal("60"))]
    assert check_reminder_steps(ok, country="SE", debtor_type="person", currency="SEK") == []


def test_rules_are_configurable():
    custom = {("FI", "person"): ReminderRules("Custom", "EUR", Decimal("3.00"), 1, 0)}
    steps = [ReminderStep("R1", 14, 14, fee=Decimal("4")), ReminderStep("R2", 28, 14, fee=1)]
    problems = check_reminder_steps(
        steps, country="fi", debtor_type="person", currency="EUR", rules=custom
    )
    assert len(problems) == 2


def test_validate_raises_with_every_problem():
    steps = [ReminderStep("R1", 7, 14, fee=Decimal("6.00"))]
    with pytest.raises(ReminderRuleError) as info:
        validate_reminder_steps(steps, country="FI", debtor_type="person", currency="EUR")
    assert len(info.value.problems) == 2
    assert str(info.value) == "\n".join(info.value.problems)
    validate_reminder_steps([], country="FI", debtor_type="person", currency="EUR")
    with pytest.raises(ValueError, match="debtor type"):
        validate_reminder_steps([], country="FI", debtor_type="consumer", currency="EUR")


# --------------------------------------------------------------------------- credit notes


def test_only_whole_credit_notes():
    assert check_full_credit(Decimal("120.00"), 120.0, currency="EUR") == ""
    message = check_full_credit(
        Decimal("120.00"), Decimal("40"), currency="EUR", invoice_number="INV-7", case_number="C1"
    )
    assert message == (
        "Invoice INV-7 is with a collection agency (case C1): it can only be credited in full "
        "(120.00 EUR), not by 40.00 EUR. Credit the whole invoice, or ask the agency to return "
        "the case first."
    )


# --------------------------------------------------------------------------- reminder run


PURRING = ReminderStep("Purring", delay_days=14, payment_days=14, fee=Decimal("35"))
VARSEL = ReminderStep("Inkassovarsel", 28, 14, fee=Decimal("35"), kind="collection_notice")


def test_next_step_waits_for_its_day():
    due = D(2026, 3, 10)
    steps = [VARSEL, PURRING]  # the order given does not matter: by delay days
    assert rules.next_reminder_step(due, steps, {}, D(2026, 3, 23)) is None  # day 13
    assert rules.next_reminder_step(due, steps, {}, D(2026, 3, 24)) == PURRING  # day 14
    sent = {PURRING: D(2026, 3, 24)}
    assert rules.next_reminder_step(due, steps, sent, D(2026, 4, 6)) is None  # day 27
    assert rules.next_reminder_step(due, steps, sent, D(2026, 4, 7)) == VARSEL  # day 28
    sent[VARSEL] = D(2026, 4, 7)
    assert rules.next_reminder_step(due, steps, sent, D(2026, 6, 1)) is None


def test_a_late_reminder_moves_the_next_step():
    due = D(2026, 3, 10)
    sent = {PURRING: D(2026, 4, 1)}  # sent on day 22 instead of 14: the notice moves to day 36
    assert rules.next_reminder_step(due, [PURRING, VARSEL], sent, D(2026, 4, 14)) is None
    assert rules.next_reminder_step(due, [PURRING, VARSEL], sent, D(2026, 4, 15)) == VARSEL
    early = {PURRING: D(2026, 3, 24)}  # on time: no shift
    assert rules.next_reminder_step(due, [PURRING, VARSEL], early, D(2026, 4, 7)) == VARSEL


def test_next_step_never_on_the_due_date_and_skips_disabled():
    due = D(2026, 3, 10)
    early = ReminderStep("Soft", delay_days=0, payment_days=7)
    assert rules.next_reminder_step(due, [early], {}, due) is None
    assert rules.next_reminder_step(due, [early], {}, D(2026, 3, 11)) == early
    off = ReminderStep("Off", 1, 7, enabled=False)
    assert rules.next_reminder_step(due, [off], {}, D(2026, 5, 1)) is None


def test_entry_after_the_reminders_sent():
    due = D(2026, 3, 10)
    steps = [PURRING, VARSEL]
    on_time = {PURRING: D(2026, 3, 24), VARSEL: D(2026, 4, 7)}
    # the notice is due on day 42 (21 April): the invoice enters on day 43
    assert rules.reminded_entry_date(due, steps, on_time) == D(2026, 4, 22)
    assert rules.reminded_entry_date(due, steps, on_time) == collection_entry_date(due, steps)
    late = {PURRING: D(2026, 3, 24), VARSEL: D(2026, 4, 10)}
    assert rules.reminded_entry_date(due, steps, late) == D(2026, 4, 25)
    assert rules.reminded_entry_date(due, steps, {PURRING: D(2026, 3, 24)}) is None


def test_entry_without_steps_and_by_hand():
    due = D(2026, 3, 10)
    assert rules.reminded_entry_date(due, [], {}) == D(2026, 3, 24)
    assert rules.reminded_entry_date(due, [], {}, delay_days=1) == D(2026, 3, 11)
    # moved by hand before the notice was even sent
    moved = rules.reminded_entry_date(due, [PURRING, VARSEL], {}, moved_by_hand_on=D(2026, 3, 30))
    assert moved == D(2026, 3, 30)


def test_problems_carry_codes_and_values():
    steps = [
        ReminderStep("P1", 14, 14, fee=Decimal("40")),
        ReminderStep("P2", 28, 14, fee=Decimal("35")),
        ReminderStep("Varsel", 42, 10, fee=Decimal("35"), kind="collection_notice"),
    ]
    problems = rules.reminder_step_problems(
        steps, country="no", debtor_type="person", currency="NOK"
    )
    assert [p.code for p in problems] == ["fee_above_limit", "too_many_fees", "notice_too_short"]
    above, many, short = problems
    assert above.step == "P1"
    assert above.values["fee"] == "40.00 NOK" and above.values["limit"] == "35.00 NOK"
    assert many.values["count"] == "3" and many.values["max_count"] == "2"
    assert short.values["days"] == "10" and short.values["min_days"] == "14"
    assert [p.text for p in problems] == check_reminder_steps(
        steps, country="NO", debtor_type="person", currency="NOK"
    )
    [early] = rules.reminder_step_problems(
        [ReminderStep("R", 7, 14, fee=1)], country="FI", debtor_type="person", currency="EUR"
    )
    assert early.code == "fee_too_early" and early.values["first_day"] == "14"
