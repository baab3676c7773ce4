# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Retry plans, payment changes and remittance postings of the collection sync."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from nordic_billing.collection import (
    AgencyAuthError,
    AgencyConflict,
    AgencyNotFound,
    AgencyUnavailable,
    AgencyUnknownOutcome,
    AgencyValidationError,
    SettlementLine,
)
from nordic_billing.collection.sync import (
    ERROR,
    RETRY,
    UNKNOWN,
    PaymentChange,
    failure_outcome,
    payment_changes,
    remittance_postings,
)

D = dt.date
MIN = dt.timedelta(minutes=1)

# --------------------------------------------------------------------------- retries


@pytest.mark.parametrize(
    "error",
    [
        AgencyValidationError("claim.due_date: is required"),
        AgencyNotFound("case C9 does not exist"),
        AgencyConflict("payment P1 was recorded with amount 10.00"),
    ],
)
def test_refusals_need_a_person(error):
    outcome = failure_outcome(error, 1)
    assert outcome.state == ERROR and outcome.retry_in is None
    assert outcome.message == error.message


def test_credentials():
    outcome = failure_outcome(AgencyAuthError("bad key", status_code=401), 1)
    assert outcome.state == ERROR
    assert "credentials" in outcome.message


def test_unavailable_backs_off_exponentially():
    error = AgencyUnavailable("503", maybe_sent=False)
    delays = [failure_outcome(error, n).retry_in for n in (1, 2, 3)]
    assert delays == [5 * MIN, 10 * MIN, 20 * MIN]
    assert failure_outcome(error, 1).state == RETRY
    assert failure_outcome(error, 7, max_delay=3600).retry_in == 60 * MIN


def test_retry_after_is_respected():
    error = AgencyUnavailable("429", maybe_sent=False, retry_after=900)
    assert failure_outcome(error, 1).retry_in == 15 * MIN


def test_maybe_sent_is_unknown():
    assert failure_outcome(AgencyUnavailable("500"), 1).state == UNKNOWN
    assert failure_outcome(AgencyUnknownOutcome("lost"), 2).state == UNKNOWN


def test_gives_up_but_never_forgets_what_may_exist():
    surely_not_sent = failure_outcome(AgencyUnavailable("503", maybe_sent=False), 8)
    assert surely_not_sent.state == ERROR
    assert "gave up after 8 attempts" in surely_not_sent.message
    maybe = failure_outcome(AgencyUnknownOutcome("lost"), 8)
    assert maybe.state == UNKNOWN and maybe.retry_in == dt.timedelta(days=1)


def test_attempts_count_from_one():
    with pytest.raises(ValueError, match="at least 1"):
        failure_outcome(AgencyUnavailable("x"), 0)


# --------------------------------------------------------------------------- payments

TODAY = D(2026, 5, 4)


def test_new_payments_are_sent_once():
    current = {"apr-7": (Decimal("20.00"), D(2026, 5, 1)), "apr-9": (Decimal("5"), D(2026, 5, 2))}
    assert payment_changes(current, {}, today=TODAY) == [
        PaymentChange("apr-7", Decimal("20.00"), D(2026, 5, 1)),
        PaymentChange("apr-9", Decimal("5"), D(2026, 5, 2)),
    ]
    reported = {"apr-7": Decimal("20.00"), "apr-9": Decimal("5")}
    assert payment_changes(current, reported, today=TODAY) == []


def test_undone_payment_is_reversed_once():
    reported = {"apr-7": Decimal("20.00")}
    assert payment_changes({}, reported, today=TODAY) == [
        PaymentChange("apr-7-rev", Decimal("-20.00"), TODAY, "apr-7")
    ]
    reported["apr-7-rev"] = Decimal("-20.00")
    assert payment_changes({}, reported, today=TODAY) == []


def test_redone_payment_has_a_new_id():
    reported = {"apr-7": Decimal("20.00")}
    current = {"apr-8": (Decimal("20.00"), D(2026, 5, 3))}
    assert payment_changes(current, reported, today=TODAY) == [
        PaymentChange("apr-8", Decimal("20.00"), D(2026, 5, 3)),
        PaymentChange("apr-7-rev", Decimal("-20.00"), TODAY, "apr-7"),
    ]


def test_zero_amounts_are_skipped():
    assert payment_changes({"apr-1": (Decimal(0), TODAY)}, {}, today=TODAY) == []


# --------------------------------------------------------------------------- settlements


def line(line_id, kind, amount, case="C000001", remittance="R1", currency="EUR", day=1):
    return SettlementLine(
        line_id=line_id,
        remittance_id=remittance,
        case_number=case,
        kind=kind,
        amount=Decimal(amount),
        currency=currency,
        date=D(2026, 6, day),
        created_at=dt.datetime(2026, 6, day, 8, tzinfo=dt.timezone.utc),
    )


def test_one_remittance_booked_by_kind():
    lines = [
        line("R1-1", "principal", "100.00"),
        line("R1-2", "interest", "2.50"),
        line("R1-3", "costs", "-15.00", day=2),
        line("R1-4", "other", "-1.00"),
    ]
    [remittance] = remittance_postings(lines)
    assert remittance.remittance_id == "R1" and remittance.currency == "EUR"
    assert remittance.date == D(2026, 6, 2)
    assert [(p.kind, p.amount) for p in remittance.postings] == [
        ("principal", Decimal("100.00")),
        ("interest", Decimal("2.50")),
        ("costs", Decimal("-15.00")),
        ("other", Decimal("-1.00")),
    ]
    assert remittance.net == Decimal("86.50")


def test_fees_pay_the_open_fee_invoices_first():
    lines = [
        line("R1-1", "fees", "8.00"),
        line("R2-1", "fees", "7.00", remittance="R2"),
        line("R2-2", "fees", "3.00", case="C000002", remittance="R2"),
    ]
    first, second = remittance_postings(lines, {"C000001": Decimal("10.00")})
    assert [(p.kind, p.amount) for p in first.postings] == [("fee_invoices", Decimal("8.00"))]
    assert [(p.case_number, p.kind, p.amount) for p in second.postings] == [
        ("C000001", "fee_invoices", Decimal("2.00")),
        ("C000001", "fees", Decimal("5.00")),
        ("C000002", "fees", Decimal("3.00")),
    ]
    assert second.net == Decimal("10.00")


def test_negative_fees_are_not_matched_with_fee_invoices():
    [remittance] = remittance_postings([line("R1-1", "fees", "-2.00")], {"C000001": Decimal(5)})
    assert [(p.kind, p.amount) for p in remittance.postings] == [("fees", Decimal("-2.00"))]


def test_a_remittance_has_one_currency():
    with pytest.raises(ValueError, match="mixes currencies: EUR, NOK"):
        remittance_postings(
            [line("R1-1", "principal", "1"), line("R1-2", "fees", "1", currency="NOK")]
        )
