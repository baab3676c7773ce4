# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""When an overdue invoice may go to a collection agency, and the limits on reminder fees.

Pure functions over plain values; the Odoo addon reads its records and calls them.

Counting days
-------------
All periods are calendar days counted from the invoice's due date: "day N" is
``due_date + N days``, so day 0 is the due date and day 1 the first overdue day. A reminder step
(:class:`ReminderStep`) is *sent* on day ``delay_days`` and gives the debtor ``payment_days`` to
pay, counted from the day it is sent; its own due date is therefore day
``delay_days + payment_days``. Example: a collection notice (inkassovarsel) sent on day 1 with
14 days to pay is due on day 15.

Entering the draft collection list (:func:`collection_entry_date`)
------------------------------------------------------------------
* With no enabled reminder step: on day ``delay_days`` (14 by default, 1 for agencies that take
  invoices from the first overdue day).
* With enabled steps: on the first day after the due date of the last of them (the latest
  step due date), i.e. day ``max(delay_days + payment_days) + 1``.
* Moved by hand: on the day staff moved it, but never before the first overdue day.

PowerOffice Go applies the 14-day rule also when only a plain reminder is configured and waits
for the steps only when a collection notice is set; to get that behaviour pass only the steps
whose expiry must be awaited (e.g. ``[s for s in steps if s.kind == "collection_notice"]``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from .base import DEBTOR_TYPES, amount_str, to_decimal

DEFAULT_DELAY_DAYS = 14
STEP_KINDS = ("reminder", "collection_notice")

# Reasons :func:`check_eligibility` gives (constants so the addon can compare and translate).
ELIGIBLE = "eligible"
NO_DUE_DATE = "the invoice has no due date"
NOTHING_OPEN = "nothing is left to pay on the invoice"
CUSTOMER_EXCLUDED = "the customer is not to be transferred to a collection agency"
FACTORING = "the invoice is financed by factoring"
DUE_BEFORE_START = "the invoice fell due before the collection start date"


def check_eligibility(
    *,
    due_date: dt.date | None,
    open_amount: Decimal | int | str,
    transfer_to_collection: bool = True,
    factoring: bool = False,
    start_date: dt.date | None = None,
) -> tuple[bool, str]:
    """May this invoice be handed to a collection agency at all? Returns (eligible, reason).

    ``transfer_to_collection`` is the customer's flag (on unless staff untick it);
    ``factoring`` marks an invoice sold to or financed by a factoring company, which cannot
    also go to collection. With a backend ``start_date`` only invoices that fell due on or after
    it (so became overdue after it) are followed. *When* an eligible invoice enters the draft
    list is :func:`collection_entry_date`'s answer.
    """
    if due_date is None:
        return False, NO_DUE_DATE
    if to_decimal(open_amount, "open amount") <= 0:
        return False, NOTHING_OPEN
    if not transfer_to_collection:
        return False, CUSTOMER_EXCLUDED
    if factoring:
        return False, FACTORING
    if start_date is not None and due_date < start_date:
        return False, DUE_BEFORE_START
    return True, ELIGIBLE


@dataclass(frozen=True)
class ReminderStep:
    """One step of the reminder run: a reminder or a collection notice (inkassovarsel,
    perintävaroitus). See the module docstring for how its days count."""

    name: str
    delay_days: int  # sent on this day after the invoice due date
    payment_days: int  # days to pay, counted from the day it is sent
    fee: Decimal = Decimal(0)  # reminder fee charged with this step, in the invoice currency
    kind: str = "reminder"  # "reminder" or "collection_notice"
    enabled: bool = True

    def __post_init__(self):
        if self.kind not in STEP_KINDS:
            raise ValueError(f"step {self.name!r}: kind is one of {', '.join(STEP_KINDS)}")
        if self.delay_days < 0 or self.payment_days < 0:
            raise ValueError(f"step {self.name!r}: days must not be negative")
        object.__setattr__(self, "fee", to_decimal(self.fee, f"step {self.name!r} fee"))

    def send_date(self, invoice_due_date: dt.date) -> dt.date:
        return invoice_due_date + dt.timedelta(days=self.delay_days)

    def due_date(self, invoice_due_date: dt.date) -> dt.date:
        return self.send_date(invoice_due_date) + dt.timedelta(days=self.payment_days)


def collection_entry_date(
    due_date: dt.date,
    steps: Iterable[ReminderStep] = (),
    *,
    delay_days: int = DEFAULT_DELAY_DAYS,
    moved_by_hand_on: dt.date | None = None,
) -> dt.date:
    """The day an overdue invoice enters the draft collection list (rules: module docstring)."""
    if delay_days < 1:
        raise ValueError("the collection delay is at least 1 day (the first overdue day)")
    if moved_by_hand_on is not None:
        return max(moved_by_hand_on, due_date + dt.timedelta(days=1))
    enabled = [step for step in steps if step.enabled]
    if not enabled:
        return due_date + dt.timedelta(days=delay_days)
    return max(step.due_date(due_date) for step in enabled) + dt.timedelta(days=1)


def next_reminder_step(
    due_date: dt.date,
    steps: Iterable[ReminderStep],
    sent_on: Mapping[ReminderStep, dt.date],
    today: dt.date,
) -> ReminderStep | None:
    """The reminder step to send today for an invoice due on ``due_date``, or None.

    ``sent_on`` maps each step already sent for the invoice to the day it went out. Enabled
    steps go one after another in the order of their ``delay_days`` (then as given): the next
    one is the first that was not sent yet, sent on its own day; when an earlier step went out
    late, the later ones move by as many days, so the time between the steps stays as
    configured (a collection notice never follows a late reminder too soon). Nothing is sent
    before the first overdue day. None when every enabled step was sent or the next one's day
    has not come.
    """
    enabled = sorted((step for step in steps if step.enabled), key=lambda step: step.delay_days)
    shift = dt.timedelta(0)
    for step in enabled:
        sent = sent_on.get(step)
        if sent is not None:
            shift = max(shift, sent - step.send_date(due_date))
            continue
        day = max(step.send_date(due_date) + shift, due_date + dt.timedelta(days=1))
        return step if today >= day else None
    return None


def reminded_entry_date(
    due_date: dt.date,
    steps: Iterable[ReminderStep],
    sent_on: Mapping[ReminderStep, dt.date],
    *,
    delay_days: int = DEFAULT_DELAY_DAYS,
    moved_by_hand_on: dt.date | None = None,
) -> dt.date | None:
    """:func:`collection_entry_date` for an invoice whose reminders are sent as they happened.

    A step's payment time counts from the day it was really sent (``sent_on``, as in
    :func:`next_reminder_step`), so a reminder that went out late moves the entry day too.
    None while an enabled step has not been sent: the invoice is still in the reminder run
    (staff can move it by hand). A hand move wins as in :func:`collection_entry_date`.
    """
    steps = list(steps)
    planned = collection_entry_date(
        due_date, steps, delay_days=delay_days, moved_by_hand_on=moved_by_hand_on
    )
    if moved_by_hand_on is not None:
        return planned
    enabled = [step for step in steps if step.enabled]
    if any(step not in sent_on for step in enabled):
        return None
    actual = [sent_on[step] + dt.timedelta(days=step.payment_days + 1) for step in enabled]
    return max([planned, *actual])


def is_due_for_collection(
    due_date: dt.date,
    today: dt.date,
    steps: Iterable[ReminderStep] = (),
    *,
    delay_days: int = DEFAULT_DELAY_DAYS,
    moved_by_hand_on: dt.date | None = None,
) -> bool:
    """True from the entry day on (see :func:`collection_entry_date`)."""
    entry = collection_entry_date(
        due_date, steps, delay_days=delay_days, moved_by_hand_on=moved_by_hand_on
    )
    return today >= entry


# --------------------------------------------------------------------------- reminder fees


@dataclass(frozen=True)
class ReminderRules:
    """Legal limits on reminders for one country and kind of debtor (configurable)."""

    label: str  # "Finnish consumer": used in messages
    currency: str
    max_fee: Decimal  # per reminder
    max_charged_steps: int | None = None  # how many reminders may carry a fee
    first_fee_day: int = 0  # a charged reminder is sent no earlier than this day
    notice_payment_days: int = 0  # a collection notice gives at least this many days to pay


#: Defaults from the law as of H1 2026: Finnish consumer 5 EUR (first charged reminder no
#: earlier than 14 days after the due date), Finnish business 12 EUR, Norway 35 NOK per
#: reminder or collection notice, at most two, the notice giving 14 days (inkassoloven § 9).
DEFAULT_REMINDER_RULES: Mapping[tuple[str, str], ReminderRules] = {
    ("FI", "person"): ReminderRules("Finnish consumer", "EUR", Decimal("5.00"), None, 14),
    ("FI", "company"): ReminderRules("Finnish business", "EUR", Decimal("12.00")),
    ("NO", "person"): ReminderRules("Norwegian", "NOK", Decimal("35.00"), 2, 0, 14),
    ("NO", "company"): ReminderRules("Norwegian", "NOK", Decimal("35.00"), 2, 0, 14),
}


class ReminderRuleError(ValueError):
    """Reminder steps that break a country's rules; ``problems`` lists each one."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class ReminderProblem:
    """One way reminder steps break a country's rules.

    ``text`` is the English message; ``code`` and ``values`` let a caller word it in another
    language. Codes: ``negative_fee``, ``currency`` (the fee cannot be checked in this
    currency), ``fee_above_limit``, ``fee_too_early``, ``too_many_fees``, ``notice_too_short``.
    ``values`` holds the figures as display strings (``step``, ``fee``, ``limit``, ``currency``,
    ``rule_currency``, ``day``, ``first_day``, ``count``, ``max_count``, ``days``, ``min_days``)
    and the rules' ``label``, ``country`` and ``debtor_type``.
    """

    code: str
    text: str
    step: str = ""
    values: Mapping[str, str] = field(default_factory=dict)


def reminder_step_problems(
    steps: Iterable[ReminderStep],
    *,
    country: str,
    debtor_type: str,
    currency: str,
    rules: Mapping[tuple[str, str], ReminderRules] | None = None,
) -> list[ReminderProblem]:
    """Every way the enabled ``steps`` break the rules for ``country`` and ``debtor_type``
    (``person`` / ``company``); empty when they are fine or the country has no rules."""
    if debtor_type not in DEBTOR_TYPES:
        raise ValueError(f"debtor type is one of {', '.join(DEBTOR_TYPES)}")
    country = (country or "").upper()
    rule = (DEFAULT_REMINDER_RULES if rules is None else rules).get((country, debtor_type))
    enabled = [step for step in steps if step.enabled]
    problems = [
        ReminderProblem(
            "negative_fee",
            f"Step '{s.name}': the reminder fee must not be negative.",
            s.name,
            {"step": s.name},
        )
        for s in enabled
        if s.fee < 0
    ]
    if rule is None:
        return problems
    common = {"label": rule.label, "country": country, "debtor_type": debtor_type}
    charged = [step for step in enabled if step.fee > 0]
    if charged and currency != rule.currency:
        problems.append(
            ReminderProblem(
                "currency",
                f"The {rule.label} reminder fee limit is in {rule.currency}; fees in {currency} "
                "cannot be checked against it.",
                values={**common, "rule_currency": rule.currency, "currency": currency},
            )
        )
        charged = []
    limit = f"{amount_str(rule.max_fee)} {rule.currency}"
    for step in charged:
        if step.fee > rule.max_fee:
            fee = f"{amount_str(step.fee)} {currency}"
            problems.append(
                ReminderProblem(
                    "fee_above_limit",
                    f"Step '{step.name}': the reminder fee {fee} is "
                    f"above the {rule.label} limit of {limit} per reminder.",
                    step.name,
                    {**common, "step": step.name, "fee": fee, "limit": limit},
                )
            )
        if step.delay_days < rule.first_fee_day:
            problems.append(
                ReminderProblem(
                    "fee_too_early",
                    f"Step '{step.name}' is sent on day {step.delay_days} after the due date: a "
                    f"{rule.label} reminder may carry a fee only from day {rule.first_fee_day}.",
                    step.name,
                    {
                        **common,
                        "step": step.name,
                        "day": str(step.delay_days),
                        "first_day": str(rule.first_fee_day),
                    },
                )
            )
    if rule.max_charged_steps is not None and len(charged) > rule.max_charged_steps:
        problems.append(
            ReminderProblem(
                "too_many_fees",
                f"{len(charged)} steps charge a reminder fee; the {rule.label} rules allow at "
                f"most {rule.max_charged_steps}.",
                values={
                    **common,
                    "count": str(len(charged)),
                    "max_count": str(rule.max_charged_steps),
                },
            )
        )
    for step in enabled:
        if step.kind == "collection_notice" and step.payment_days < rule.notice_payment_days:
            problems.append(
                ReminderProblem(
                    "notice_too_short",
                    f"Step '{step.name}': a {rule.label} collection notice must give at least "
                    f"{rule.notice_payment_days} days to pay, not {step.payment_days}.",
                    step.name,
                    {
                        **common,
                        "step": step.name,
                        "days": str(step.payment_days),
                        "min_days": str(rule.notice_payment_days),
                    },
                )
            )
    return problems


def check_reminder_steps(
    steps: Iterable[ReminderStep],
    *,
    country: str,
    debtor_type: str,
    currency: str,
    rules: Mapping[tuple[str, str], ReminderRules] | None = None,
) -> list[str]:
    """The messages of :func:`reminder_step_problems`, in English."""
    return [
        problem.text
        for problem in reminder_step_problems(
            steps, country=country, debtor_type=debtor_type, currency=currency, rules=rules
        )
    ]


def validate_reminder_steps(steps: Iterable[ReminderStep], **kwargs) -> None:
    """:func:`check_reminder_steps`, raising :class:`ReminderRuleError` when anything is wrong."""
    problems = check_reminder_steps(list(steps), **kwargs)
    if problems:
        raise ReminderRuleError(problems)


# --------------------------------------------------------------------------- credit notes


def check_full_credit(
    invoice_total: Decimal | int | str,
    credited: Decimal | int | str,
    *,
    currency: str,
    invoice_number: str = "",
    case_number: str = "",
) -> str:
    """Only a credit note of the whole invoice may follow an invoice that is with an agency.

    Returns "" when ``credited`` equals ``invoice_total``, else the message to show.
    """
    total = to_decimal(invoice_total, "invoice total")
    amount = to_decimal(credited, "credited amount")
    if amount == total:
        return ""
    invoice = f"Invoice {invoice_number}" if invoice_number else "The invoice"
    case = f" (case {case_number})" if case_number else ""
    return (
        f"{invoice} is with a collection agency{case}: it can only be credited in full "
        f"({amount_str(total)} {currency}), not by {amount_str(amount)} {currency}. Credit the "
        "whole invoice, or ask the agency to return the case first."
    )
