# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What the ERP does with an agency's answers: retry plans, payment changes, settlement postings.

Pure decisions over plain values; the Odoo addon keeps its exchange records (cases, payment and
cancel operations, settlement lines) and applies them.

* :func:`failure_outcome`: after a failed call, whether to try again, when, and whether the
  agency may have applied it (the record then waits in an *unknown* state and is looked up by
  its key before anything is sent again).
* :func:`payment_changes`: which payments to report to the agency, given the payments now on the
  invoice and the ones reported before; removed payments are reversed, each change carrying its
  own idempotent payment id.
* :func:`remittance_postings`: how one agency remittance is booked: principal against the
  invoice's receivable, fees against the open reminder-fee invoices first, the rest on the
  accounts for interest, fees, costs and other postings; the net amount is what the agency pays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from .base import (
    AgencyAuthError,
    AgencyError,
    AgencyUnavailable,
    AgencyUnknownOutcome,
    SettlementLine,
)

RETRY = "retry"  # surely not applied: send again later
UNKNOWN = "unknown"  # may have been applied: look up by key, then send again later
ERROR = "error"  # needs a person: fix the data or the configuration, then retry

DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_FIRST_DELAY = 300  # seconds
DEFAULT_MAX_DELAY = 86_400

REVERSAL_SUFFIX = "-rev"
_ZERO = Decimal(0)


@dataclass(frozen=True)
class Outcome:
    """What to do with an exchange record after a failed call."""

    state: str  # RETRY, UNKNOWN or ERROR
    retry_in: dt.timedelta | None  # None for ERROR
    message: str


def failure_outcome(
    error: AgencyError,
    attempts: int,
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    first_delay: float = DEFAULT_FIRST_DELAY,
    max_delay: float = DEFAULT_MAX_DELAY,
) -> Outcome:
    """The fate of a record whose ``attempts``-th call (counting this one) failed with ``error``.

    Refusals (validation, not found, conflict) and credential errors need a person. An
    unavailable agency is tried again after ``first_delay * 2**(attempts - 1)`` seconds (at most
    ``max_delay``, at least the agency's Retry-After), until ``max_attempts`` calls failed; the
    state says whether the last call may have been applied. After the last attempt a record
    that may exist at the agency stays UNKNOWN (a person must not resend it blindly).
    """
    if attempts < 1:
        raise ValueError("attempts counts the failed call, so it is at least 1")
    if isinstance(error, AgencyAuthError):
        return Outcome(ERROR, None, f"The agency refused the credentials: {error.message}")
    if not error.retryable:
        return Outcome(ERROR, None, error.message)
    maybe_sent = isinstance(error, AgencyUnknownOutcome) or (
        isinstance(error, AgencyUnavailable) and error.maybe_sent
    )
    state = UNKNOWN if maybe_sent else RETRY
    if attempts >= max_attempts:
        if state == UNKNOWN:
            return Outcome(
                UNKNOWN,
                dt.timedelta(seconds=max_delay),
                f"{error.message} (still failing after {attempts} attempts)",
            )
        return Outcome(ERROR, None, f"{error.message} (gave up after {attempts} attempts)")
    delay = min(first_delay * 2 ** (attempts - 1), max_delay)
    retry_after = getattr(error, "retry_after", 0) or 0
    delay = max(delay, retry_after)
    return Outcome(state, dt.timedelta(seconds=delay), error.message)


# --------------------------------------------------------------------------- payments


@dataclass(frozen=True)
class PaymentChange:
    """One payment message for the agency: ``payment_id`` makes it idempotent."""

    payment_id: str
    amount: Decimal  # negative: reverses the payment sent under ``reverses``
    date: dt.date
    reverses: str = ""


def payment_changes(
    current: Mapping[str, tuple[Decimal, dt.date]],
    reported: Mapping[str, Decimal],
    *,
    today: dt.date,
) -> list[PaymentChange]:
    """Payments to report so the agency's view matches the invoice.

    ``current`` maps the id of every payment now on the invoice (in the ERP: one per
    reconciliation, whose amount never changes: undoing and redoing it makes a new id) to its
    amount and date; ``reported`` maps every payment id reported (or queued) before to its
    amount, reversals included. A payment not reported yet is sent as it is; a reported payment
    that is gone is reversed once, dated ``today``, under ``<id>-rev``. Zero amounts are
    skipped. Sorted by payment id, so the result is the same for the same input.
    """
    changes = [
        PaymentChange(payment_id, Decimal(amount), date)
        for payment_id, (amount, date) in sorted(current.items())
        if Decimal(amount) and payment_id not in reported
    ]
    for payment_id, amount in sorted(reported.items()):
        if payment_id.endswith(REVERSAL_SUFFIX) or payment_id in current or not amount:
            continue
        reversal = payment_id + REVERSAL_SUFFIX
        if reversal not in reported:
            changes.append(PaymentChange(reversal, -Decimal(amount), today, payment_id))
    return changes


# --------------------------------------------------------------------------- settlements

#: Kinds of :class:`Posting`: where each part of a remittance is booked.
POSTING_KINDS = ("principal", "fee_invoices", "interest", "fees", "costs", "other")


@dataclass(frozen=True)
class Posting:
    """One booking line of a remittance: ``amount`` is credited (negative: debited) to the
    account of ``kind``; ``principal`` and ``fee_invoices`` go to the customer's receivable and
    are reconciled with the case's invoice and its open reminder-fee invoices."""

    line_id: str
    case_number: str
    kind: str
    amount: Decimal


@dataclass(frozen=True)
class Remittance:
    """The lines an agency paid out together, and how to book them. ``net`` is what the agency
    pays us (debited to the clearing account); negative when it charged more than it remitted."""

    remittance_id: str
    currency: str
    date: dt.date
    lines: tuple[SettlementLine, ...]
    postings: tuple[Posting, ...]

    @property
    def net(self) -> Decimal:
        return sum((posting.amount for posting in self.postings), _ZERO)


def remittance_postings(
    lines: Iterable[SettlementLine],
    open_fees: Mapping[str, Decimal] | None = None,
) -> list[Remittance]:
    """Group settlement lines by remittance and say how to book each one.

    ``open_fees`` maps a case number to what is still open on the reminder-fee invoices that
    went with the case: a ``fees`` line pays them first (``fee_invoices``) and only the rest is
    fee income (``fees``). A remittance's lines must share one currency (ValueError otherwise);
    its date is the latest line date. Remittances come in the order of their first line.
    """
    left = {case: Decimal(amount) for case, amount in (open_fees or {}).items()}
    groups: dict[str, list[SettlementLine]] = {}
    for line in lines:
        groups.setdefault(line.remittance_id, []).append(line)
    result = []
    for remittance_id, group in groups.items():
        currencies = {line.currency for line in group}
        if len(currencies) != 1:
            raise ValueError(
                f"remittance {remittance_id} mixes currencies: {', '.join(sorted(currencies))}"
            )
        postings: list[Posting] = []
        for line in group:
            if line.kind != "fees":
                postings.append(Posting(line.line_id, line.case_number, line.kind, line.amount))
                continue
            open_amount = max(left.get(line.case_number, _ZERO), _ZERO)
            to_invoices = min(line.amount, open_amount) if line.amount > 0 else _ZERO
            if to_invoices:
                left[line.case_number] = open_amount - to_invoices
                postings.append(
                    Posting(line.line_id, line.case_number, "fee_invoices", to_invoices)
                )
            if line.amount - to_invoices:
                postings.append(
                    Posting(line.line_id, line.case_number, "fees", line.amount - to_invoices)
                )
        result.append(
            Remittance(
                remittance_id,
                currencies.pop(),
                max(line.date for line in group),
                tuple(group),
                tuple(postings),
            )
        )
    return result


__all__ = [
    "ERROR",
    "POSTING_KINDS",
    "RETRY",
    "UNKNOWN",
    "Outcome",
    "PaymentChange",
    "Posting",
    "Remittance",
    "failure_outcome",
    "payment_changes",
    "remittance_postings",
]
