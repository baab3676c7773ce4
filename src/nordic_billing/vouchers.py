# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Aggregate allocations and settlements of one organisation into a balanced memo voucher.

The result is a Procountor ``JOURNAL`` ledger receipt payload (``POST /ledgerreceipts``):

* fees paid: debit the clearing account (e.g. 1710, receivable from the billing service) and
  credit the income accounts of the product mapping, with their dimension items;
* credit notes and returned payments (negative allocations): debit the same income accounts, on
  rows of their own, so that the organisation's books show the fees and the credits apart;
* settlements: debit the bank account that received the payout, debit the operator's service fee
  (deducted at settlement) on its own expense account, and credit the clearing account with both.

Debits are positive, credits negative. Income rows are grouped per (account, dimension items,
VAT status, VAT percent, fee or credit) and summed, so the voucher stays small whatever the
number of members. :func:`build_memo_voucher_traced` also says, for each row, which allocations
and settlements (their ``refs``) it sums, so that every row can be traced back to them.
Amounts are ``Decimal`` with at most two decimals and the voucher balances exactly.

VAT: membership fees are normally outside VAT, hence ``vatStatus`` 12 ("no VAT handling") with
``vatPercent`` 0, and then the rows sum to exactly zero. A row that carries a VAT percent is booked
net (Procountor's ``accountingValue`` is net and Procountor adds the VAT entry itself): the net is
chosen so that ``net + round(net * p / 100)`` gives back the gross whenever a cent value allows it.
Some gross amounts have no such net (the VAT jumps by two cents); such a row leaves a difference of
one cent, which Procountor books as rounding. :func:`gross_balance` computes the balance as
Procountor sees it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
NO_VAT_HANDLING = 12
NAME_MAX_LENGTH = 80
DESCRIPTION_MAX_LENGTH = 255
DEFAULT_NAME_PREFIX = "Membership fees"


@dataclass(frozen=True, order=True)
class DimensionRef:
    """One dimension item (ids from ``GET /dimensions``) that a row is booked on."""

    dimension_id: int
    item_id: int


@dataclass(frozen=True)
class Allocation:
    """Part of a received payment that belongs to ``organisation``, as mapped to its books.

    ``amount`` is gross and may be negative (a credit note or a reversed payment). ``refs`` are
    the ids of the allocation records it stands for (one row may sum many of them).
    """

    organisation: str
    account: str
    amount: Decimal
    dimensions: tuple[DimensionRef, ...] = ()
    vat_status: int = NO_VAT_HANDLING
    vat_percent: Decimal = Decimal(0)
    description: str = ""
    refs: tuple[int, ...] = ()


@dataclass(frozen=True)
class Settlement:
    """A payout to ``organisation``: it left the clearing balance and reached ``bank_account``.

    ``amount`` is what reached the bank; ``service_fee`` is what the operator deducted before
    paying out, booked on ``service_fee_account``. The clearing account is credited with both.
    """

    organisation: str
    amount: Decimal
    bank_account: str
    description: str = ""
    service_fee: Decimal = Decimal(0)
    service_fee_account: str = ""
    refs: tuple[int, ...] = ()


@dataclass(frozen=True)
class RowTrace:
    """What one voucher row sums: the ``refs`` of its allocations and of its settlements."""

    allocations: tuple[int, ...] = ()
    settlements: tuple[int, ...] = ()


def voucher_name(organisation: str, year: int, week: int, prefix: str = DEFAULT_NAME_PREFIX) -> str:
    """``"Membership fees 2026-W47 <org>"``: unique per organisation and ISO week, <= 80 chars.

    The prefix is shortened when needed; the week and the organisation code never are, because
    the name is the key by which a voucher whose upload outcome is unknown is found again.
    """
    if not 1 <= week <= 53:
        raise ValueError(f"ISO week out of range: {week}")
    key = f"{year:04d}-W{week:02d} {organisation}"
    if not organisation or len(key) > NAME_MAX_LENGTH:
        raise ValueError(f"organisation code {organisation!r} does not fit a voucher name")
    prefix = prefix.strip()[: max(0, NAME_MAX_LENGTH - len(key) - 1)].rstrip()
    return f"{prefix} {key}" if prefix else key


def week_of(day: dt.date) -> tuple[int, int, dt.date, dt.date]:
    """``(iso year, iso week, monday, sunday)`` of the ISO week that contains ``day``."""
    year, week, weekday = day.isocalendar()
    monday = day - dt.timedelta(days=weekday - 1)
    return year, week, monday, monday + dt.timedelta(days=6)


def previous_week(today: dt.date) -> tuple[int, int, dt.date, dt.date]:
    """The last full ISO week before ``today`` (the week the weekly voucher books)."""
    return week_of(today - dt.timedelta(days=today.isoweekday()))


def build_memo_voucher(
    organisation: str,
    allocations: Iterable[Allocation],
    settlements: Iterable[Settlement] = (),
    **options,
) -> dict | None:
    """The ledger-receipt payload for one organisation, or ``None`` when nothing is to be booked.

    See :func:`build_memo_voucher_traced` for the options; this one leaves out the traces.
    """
    payload, _traces = build_memo_voucher_traced(organisation, allocations, settlements, **options)
    return payload


def build_memo_voucher_traced(
    organisation: str,
    allocations: Iterable[Allocation],
    settlements: Iterable[Settlement] = (),
    *,
    receipt_date: dt.date,
    clearing_account: str,
    name: str | None = None,
    name_prefix: str = DEFAULT_NAME_PREFIX,
    clearing_description: str = "Membership fees collected",
    credit_description: str = "Credit notes",
    settlement_description: str = "Settlement paid out",
    service_fee_description: str = "Service fee",
    notes: str = "",
) -> tuple[dict | None, list[RowTrace]]:
    """The payload for one organisation and, for each of its rows, what the row sums.

    The default name comes from the ISO week of ``receipt_date``; rows are ordered
    deterministically (clearing debit; income credits, each followed by the credit notes of the
    same account and items; bank debits; service fee debits; clearing credit), so that the same
    input always gives the same payload. ``traces[i]`` holds the ``refs`` of the allocations and
    settlements that ``payload["transactions"][i]`` sums (sorted); the payload is ``None``, and
    the traces empty, when nothing is to be booked.
    """
    allocations = list(allocations)
    settlements = list(settlements)
    for row in (*allocations, *settlements):
        if row.organisation != organisation:
            raise ValueError(f"row of {row.organisation!r} in the voucher of {organisation!r}")
        _check_amount(row.amount)
    for row in settlements:
        _check_amount(row.service_fee)
    if not clearing_account:
        raise ValueError("a clearing account is required")

    income: dict[tuple, list[Allocation]] = defaultdict(list)
    for row in allocations:
        if not row.account:
            raise ValueError("an allocation has no account")
        dims = tuple(sorted(row.dimensions))
        if len({d.dimension_id for d in dims}) != len(dims):
            raise ValueError(f"two items of one dimension on account {row.account}: {dims}")
        if not row.amount:
            continue
        key = (row.account, dims, row.vat_status, Decimal(row.vat_percent), row.amount < 0)
        income[key].append(row)

    transactions: list[dict] = []
    traces: list[RowTrace] = []
    fees_total = Decimal(0)
    fee_refs: list[int] = []
    for (account, dims, vat_status, vat_percent, credit), rows in sorted(income.items()):
        gross = sum((r.amount for r in rows), Decimal(0))
        fees_total += gross
        refs = _refs(rows)
        fee_refs.extend(refs)
        text = _joined(r.description for r in rows)
        if credit:
            text = f"{credit_description}: {text}" if text else credit_description
        transactions.append(
            _row(
                account,
                -_net_of(gross, vat_percent),
                text or name_prefix,
                vat_status=vat_status,
                vat_percent=vat_percent,
                dims=dims,
            )
        )
        traces.append(RowTrace(allocations=refs))
    if fees_total:
        transactions.insert(0, _row(clearing_account, fees_total, clearing_description))
        traces.insert(0, RowTrace(allocations=tuple(sorted(fee_refs))))

    banks: dict[str, list[Settlement]] = defaultdict(list)
    fees: dict[str, list[Settlement]] = defaultdict(list)
    for row in settlements:
        if row.amount:
            if not row.bank_account:
                raise ValueError("a settlement has no bank account")
            banks[row.bank_account].append(row)
        if row.service_fee:
            if not row.service_fee_account:
                raise ValueError("a settlement with a service fee has no service fee account")
            fees[row.service_fee_account].append(row)
    paid_total = Decimal(0)
    paid_refs: list[int] = []
    for account, rows in sorted(banks.items()):
        amount = sum((r.amount for r in rows), Decimal(0))
        if not amount:
            continue
        paid_total += amount
        paid_refs.extend(_refs(rows))
        text = _joined(r.description for r in rows) or settlement_description
        transactions.append(_row(account, amount, text))
        traces.append(RowTrace(settlements=_refs(rows)))
    for account, rows in sorted(fees.items()):
        amount = sum((r.service_fee for r in rows), Decimal(0))
        if not amount:
            continue
        paid_total += amount
        paid_refs.extend(_refs(rows))
        text = _joined(f"{service_fee_description} {r.description}" for r in rows if r.description)
        transactions.append(_row(account, amount, text or service_fee_description))
        traces.append(RowTrace(settlements=_refs(rows)))
    if paid_total:
        transactions.append(_row(clearing_account, -paid_total, settlement_description))
        traces.append(RowTrace(settlements=tuple(sorted(set(paid_refs)))))

    if not transactions:
        return None, []
    vat_rows = sum(1 for row in transactions if row["vatPercent"])
    if abs(gross_balance(transactions)) > CENT * vat_rows:
        raise AssertionError("memo voucher does not balance")  # cannot happen: built balanced
    if name is None:
        year, week, _ = receipt_date.isocalendar()
        name = voucher_name(organisation, year, week, name_prefix)
    elif len(name) > NAME_MAX_LENGTH:
        raise ValueError(f"voucher name longer than {NAME_MAX_LENGTH}: {name!r}")
    payload = {
        "type": "JOURNAL",
        "name": name,
        "receiptDate": receipt_date.isoformat(),
        "vatType": "SALES",
        "vatStatus": NO_VAT_HANDLING,
        "transactions": transactions,
    }
    if notes:
        payload["accountantsNotes"] = _clip(notes)
    return payload, traces


def build_memo_vouchers(
    allocations: Iterable[Allocation],
    settlements: Iterable[Settlement] = (),
    *,
    receipt_date: dt.date,
    clearing_accounts: Mapping[str, str] | str,
    **options,
) -> dict[str, dict]:
    """One payload per organisation found in the rows (organisations with nothing are left out).

    ``clearing_accounts`` is one account for all or a mapping organisation -> account.
    """
    by_org: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
    for row in allocations:
        by_org[row.organisation][0].append(row)
    for row in settlements:
        by_org[row.organisation][1].append(row)
    result = {}
    for organisation in sorted(by_org):
        fees, paid = by_org[organisation]
        clearing = (
            clearing_accounts
            if isinstance(clearing_accounts, str)
            else clearing_accounts[organisation]
        )
        payload = build_memo_voucher(
            organisation,
            fees,
            paid,
            receipt_date=receipt_date,
            clearing_account=clearing,
            **options,
        )
        if payload is not None:
            result[organisation] = payload
    return result


def gross_balance(transactions: Iterable[Mapping]) -> Decimal:
    """Sum of the rows with the VAT Procountor adds to each (zero for a balanced voucher)."""
    total = Decimal(0)
    for row in transactions:
        net = Decimal(row["accountingValue"])
        total += net + _vat_of(net, Decimal(row.get("vatPercent", 0)))
    return total


def _vat_of(net: Decimal, percent: Decimal) -> Decimal:
    return (net * percent / 100).quantize(CENT, ROUND_HALF_UP)


def _net_of(gross: Decimal, percent: Decimal) -> Decimal:
    """The net whose VAT brings it back to ``gross`` (the nearest one if no cent value does)."""
    if not percent:
        return gross
    guess = (gross * 100 / (100 + percent)).quantize(CENT, ROUND_HALF_UP)
    for net in (guess, guess - CENT, guess + CENT):
        if net + _vat_of(net, percent) == gross:
            return net
    return guess


def _row(
    account: str,
    amount: Decimal,
    description: str,
    *,
    vat_status: int = NO_VAT_HANDLING,
    vat_percent: Decimal = Decimal(0),
    dims: tuple[DimensionRef, ...] = (),
) -> dict:
    row = {
        "transactionType": "ENTRY",
        "account": account,
        "accountingValue": amount,
        "vatPercent": vat_percent,
        "vatStatus": vat_status,
        "description": _clip(description),
    }
    if dims:
        # Procountor: the item values of one dimension add up to the row's accounting value.
        row["dimensionItemValues"] = [
            {"dimensionId": d.dimension_id, "itemId": d.item_id, "value": amount} for d in dims
        ]
    return row


def _check_amount(amount: Decimal) -> None:
    if not isinstance(amount, Decimal):
        raise TypeError(f"amounts must be Decimal, not {type(amount).__name__}")
    if not amount.is_finite() or amount != amount.quantize(CENT):
        raise ValueError(f"amount {amount} is not a whole number of cents")


def _refs(rows: Iterable[Allocation | Settlement]) -> tuple[int, ...]:
    return tuple(sorted({ref for row in rows for ref in row.refs}))


def _joined(texts: Iterable[str]) -> str:
    unique = sorted({t.strip() for t in texts if t and t.strip()})
    return _clip("; ".join(unique))


def _clip(text: str) -> str:
    if len(text) <= DESCRIPTION_MAX_LENGTH:
        return text
    return text[: DESCRIPTION_MAX_LENGTH - 1] + "\u2026"
