# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A local collection agency speaking both generic protocols over one in-memory state.

* REST (``data/agency-openapi.yaml``) under ``/rest/v1`` (the prefix is configurable);
* SOAP 1.1 (``data/agency.wsdl``) at ``/soap``, the WSDL at ``/soap?wsdl`` with this server's
  address in it. SOAP requests are validated against the WSDL's schema.

Both protocols check the API key: header ``X-API-Key`` (name configurable) or
``Authorization: Bearer <key>``; a wrong or missing key answers 401.

Faults and the agency's own work are driven from Python through the handle that
:func:`start_in_thread` returns (``handle.faults``, ``handle.state``) or over HTTP without a key:

==============================================  =================================================
``GET  /_sandbox/state``                        cases, settlement lines, calls seen
``GET  /_sandbox/received``                     the same: what clients sent, as JSON
``POST /_sandbox/reset``                        forget every case and fault
``POST /_sandbox/faults``                       ``{"fail_next": {"n": 2, "status": 503,
                                                "operation": "create_case", "skip": 0,
                                                "retry_after": 30},
                                                "store_then_fail":
                                                {"n": 1, "mode": "timeout"}, "slow": {"seconds":
                                                1.5, "n": 1}, "hang_seconds": 3}``
``DELETE /_sandbox/faults``                     clear the faults
``POST /_sandbox/config``                       ``{"api_key": "..."}``
``POST /_sandbox/cases/<case>/advance``         ``{"principal": "10.00", "interest": "0.50",
                                                "fees": "5.00", "costs": "0", "other": "0",
                                                "status": "paid", "message": "",
                                                "settle": true, "date": "2026-03-02"}``
==============================================  =================================================

Operations named in faults: ``ping``, ``create_case``, ``find_case``, ``get_case``,
``add_payment``, ``cancel_case``, ``list_updates``, ``list_settlements``. ``store_then_fail``
applies to the writes (``create_case``, ``add_payment``, ``cancel_case``): the change is stored,
then the answer is a 500 (``mode="error"``) or nothing until ``hang_seconds`` have passed and
then a 500 (``mode="timeout"``), so the client's unknown-outcome path runs.

Sandbox rules an agency would have too: the external key is unique (a second create answers
409 with the existing case number); a payment id is recorded once (the same id again answers
the case unchanged, with another amount 409); a case whose direct payments and collected
principal cover the outstanding principal becomes ``paid``.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from lxml import etree

from nordic_billing.collection.base import (
    CASE_STATUSES,
    DEBTOR_TYPES,
    EXTERNAL_KEY_RE,
    amount_str,
    datetime_str,
    parse_datetime,
)
from nordic_billing.retry import retry_after_text

DEFAULT_API_KEY = "sandbox-key"
REST_PREFIX = "/rest/v1"
SOAP_PATH = "/soap"
SOAP_NS = "urn:nordic-billing:collection-agency:1"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WRITE_OPERATIONS = ("create_case", "add_payment", "cancel_case")
OPERATIONS = (
    "ping",
    "create_case",
    "find_case",
    "get_case",
    "add_payment",
    "cancel_case",
    "list_updates",
    "list_settlements",
)
PAGE_LIMIT = 100
HISTORY = 10_000  # calls and exchanges kept for inspection
MAX_PAGE_LIMIT = 500

_AMOUNT_RE = re.compile(r"^-?\d{1,13}(\.\d{1,2})?$")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
_COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
_COLLECTED = ("principal", "interest", "fees", "costs")
_ZERO = Decimal("0.00")


class SandboxError(Exception):
    """What the agency answers instead of a result: HTTP status, error code, message."""

    def __init__(
        self, status: int, code: str, message: str, *, field: str = "", case_number: str = ""
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.case_number = case_number

    def to_json(self) -> dict[str, Any]:
        error = {"code": self.code, "message": self.message}
        if self.field:
            error["field"] = self.field
        if self.case_number:
            error["case_number"] = self.case_number
        return {"error": error}


def _invalid(field_name: str, message: str) -> SandboxError:
    return SandboxError(422, "validation", f"{field_name}: {message}", field=field_name)


# --------------------------------------------------------------------------- state


@dataclass
class SandboxCase:
    case_number: str
    external_key: str
    debtor: dict
    claim: dict
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    message: str = ""
    collected: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(_COLLECTED, _ZERO))
    payments: dict[str, tuple[Decimal, str]] = field(default_factory=dict)

    @property
    def outstanding(self) -> Decimal:
        return Decimal(self.claim["outstanding_amount"])

    @property
    def paid_directly(self) -> Decimal:
        return sum((amount for amount, _date in self.payments.values()), _ZERO)

    def to_json(self) -> dict[str, Any]:
        data = {
            "case_number": self.case_number,
            "external_key": self.external_key,
            "status": self.status,
            **{f"collected_{k}": amount_str(v) for k, v in self.collected.items()},
            "updated_at": datetime_str(self.updated_at),
        }
        if self.message:
            data["message"] = self.message
        return data


class AgencyState:
    """The agency's books. Every method is thread-safe; dicts in and out are wire JSON."""

    def __init__(self, api_key: str = DEFAULT_API_KEY):
        self.api_key = api_key
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.cases: dict[str, SandboxCase] = {}
            self.by_key: dict[str, str] = {}
            self.settlements: list[dict[str, Any]] = []
            #: (protocol, operation, HTTP status) of the latest API calls, in arrival order.
            self.calls: deque[tuple[str, str, int]] = deque(maxlen=HISTORY)
            #: The latest REST exchanges (method, path, query, request, status, response).
            self.exchanges: deque[dict[str, Any]] = deque(maxlen=HISTORY)
            self._last_time = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
            self._remittances = 0

    def _now(self) -> dt.datetime:
        """Strictly increasing clock, so ``since`` and cursors order every change."""
        now = dt.datetime.now(dt.timezone.utc)
        if now <= self._last_time:
            now = self._last_time + dt.timedelta(microseconds=1)
        self._last_time = now
        return now

    def count(self, operation: str, protocol: str | None = None) -> int:
        """How many calls of ``operation`` arrived (over ``protocol`` when given)."""
        with self._lock:
            return sum(
                1
                for proto, op, _status in self.calls
                if op == operation and protocol in (None, proto)
            )

    def record_call(self, protocol: str, operation: str, status: int) -> None:
        with self._lock:
            self.calls.append((protocol, operation, status))

    def record_exchange(self, exchange: dict[str, Any]) -> None:
        with self._lock:
            self.exchanges.append(exchange)

    # -- operations ---------------------------------------------------------------------

    def _case(self, case_number: str) -> SandboxCase:
        case = self.cases.get(case_number)
        if case is None:
            raise SandboxError(404, "not_found", f"case {case_number} does not exist")
        return case

    def create_case(self, debtor: Any, claim: Any) -> dict[str, Any]:
        _check_debtor(debtor)
        _check_claim(claim)
        key = claim["external_key"]
        with self._lock:
            if key in self.by_key:
                number = self.by_key[key]
                raise SandboxError(
                    409,
                    "conflict",
                    f"a case for external key {key} exists already: {number}",
                    field="claim.external_key",
                    case_number=number,
                )
            now = self._now()
            number = f"C{len(self.cases) + 1:06d}"
            case = SandboxCase(number, key, debtor, claim, "open", now, now)
            self.cases[number] = case
            self.by_key[key] = number
            return case.to_json()

    def find_case(self, external_key: str) -> dict[str, Any] | None:
        with self._lock:
            number = self.by_key.get(external_key)
            return self.cases[number].to_json() if number else None

    def get_case(self, case_number: str) -> dict[str, Any]:
        with self._lock:
            return self._case(case_number).to_json()

    def add_payment(self, case_number: str, payment: Any) -> tuple[dict[str, Any], bool]:
        """Record a direct payment; returns the case and whether the payment was new."""
        if not isinstance(payment, dict):
            raise SandboxError(400, "bad_request", "the body must be a JSON object")
        payment_id = _required_text(payment, "payment_id", 64)
        amount = _amount(payment, "amount")
        if not amount:
            raise _invalid("amount", "must not be zero")
        date = _date(payment, "date").isoformat()
        with self._lock:
            case = self._case(case_number)
            known = case.payments.get(payment_id)
            if known is not None:
                if known != (amount, date):
                    raise SandboxError(
                        409,
                        "conflict",
                        f"payment {payment_id} was recorded with amount {amount_str(known[0])} "
                        f"on {known[1]}",
                        field="payment_id",
                        case_number=case_number,
                    )
                return case.to_json(), False
            if case.status not in ("open", "paid"):
                raise SandboxError(
                    409,
                    "conflict",
                    f"case {case_number} is {case.status}: no payments can be added",
                    case_number=case_number,
                )
            case.payments[payment_id] = (amount, date)
            self._settle_status(case)
            case.updated_at = self._now()
            return case.to_json(), True

    def cancel_case(self, case_number: str, reason: Any) -> dict[str, Any]:
        if not isinstance(reason, str) or not reason.strip():
            raise _invalid("reason", "is required")
        if len(reason) > 200:
            raise _invalid("reason", "is longer than 200 characters")
        with self._lock:
            case = self._case(case_number)
            if case.status == "closed":
                return case.to_json()
            if case.status != "open":
                raise SandboxError(
                    409,
                    "conflict",
                    f"case {case_number} is {case.status} and cannot be cancelled",
                    case_number=case_number,
                )
            case.status = "closed"
            case.message = f"cancelled: {reason.strip()}"
            case.updated_at = self._now()
            return case.to_json()

    def list_updates(self, since: str | None, cursor: str | None, limit: int) -> dict[str, Any]:
        with self._lock:
            rows = [(case.updated_at, case.case_number, case) for case in self.cases.values()]
            page, next_cursor = _page(rows, since, cursor, limit)
            return _page_json([case.to_json() for case in page], next_cursor)

    def list_settlements(self, since: str | None, cursor: str | None, limit: int) -> dict[str, Any]:
        with self._lock:
            rows = [(parse_datetime(x["created_at"]), x["line_id"], x) for x in self.settlements]
            page, next_cursor = _page(rows, since, cursor, limit)
            return _page_json(list(page), next_cursor)

    # -- the agency's own work ----------------------------------------------------------

    def advance(
        self,
        case_number: str,
        *,
        principal: Decimal | str | int = 0,
        interest: Decimal | str | int = 0,
        fees: Decimal | str | int = 0,
        costs: Decimal | str | int = 0,
        other: Decimal | str | int = 0,
        status: str | None = None,
        message: str = "",
        settle: bool = True,
        date: dt.date | str | None = None,
    ) -> dict[str, Any]:
        """Record what the agency collected on a case and, with ``settle``, remit it.

        Collected amounts add up per kind; each non-zero one (and ``other``, which is not a
        collected amount, e.g. a negative commission) becomes a settlement line of one new
        remittance dated ``date`` (today by default). ``status`` sets the case status; without
        it a case whose principal is covered becomes ``paid``.
        """
        amounts = {
            "principal": principal,
            "interest": interest,
            "fees": fees,
            "costs": costs,
            "other": other,
        }
        amounts = {k: _amount(amounts, k) for k in amounts}
        if status is not None and status not in CASE_STATUSES:
            raise _invalid("status", f"must be one of {', '.join(CASE_STATUSES)}")
        day = dt.date.fromisoformat(date) if isinstance(date, str) else date
        day = day or dt.date.today()
        with self._lock:
            case = self._case(case_number)
            for kind in _COLLECTED:
                case.collected[kind] += amounts[kind]
            if status is not None:
                case.status = status
            elif case.status == "open":
                self._settle_status(case)
            if message:
                case.message = message
            now = self._now()
            case.updated_at = now
            lines = []
            if settle and any(amounts.values()):
                self._remittances += 1
                remittance = f"R{self._remittances:06d}"
                for kind, amount in amounts.items():
                    if not amount:
                        continue
                    line = {
                        "line_id": f"{remittance}-{len(lines) + 1}",
                        "remittance_id": remittance,
                        "case_number": case.case_number,
                        "external_key": case.external_key,
                        "kind": kind,
                        "amount": amount_str(amount),
                        "currency": case.claim["currency"],
                        "date": day.isoformat(),
                        "created_at": datetime_str(now),
                    }
                    lines.append(line)
                self.settlements.extend(lines)
            return {"case": case.to_json(), "lines": lines}

    @staticmethod
    def _settle_status(case: SandboxCase) -> None:
        covered = case.paid_directly + case.collected["principal"] >= case.outstanding
        if case.status in ("open", "paid"):
            case.status = "paid" if covered else "open"

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "cases": [
                    {
                        **case.to_json(),
                        "debtor": case.debtor,
                        "claim": case.claim,
                        "payments": {
                            pid: {"amount": amount_str(a), "date": d}
                            for pid, (a, d) in case.payments.items()
                        },
                    }
                    for case in self.cases.values()
                ],
                "settlements": list(self.settlements),
                "calls": [list(call) for call in self.calls],
            }


def _page_json(items: list, next_cursor: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {"items": items}
    if next_cursor:
        data["next_cursor"] = next_cursor
    return data


def _page(rows: list, since: str | None, cursor: str | None, limit: int):
    """Keyset paging over (timestamp, id): ``since`` is inclusive, the cursor exclusive."""
    rows.sort(key=lambda row: (row[0], row[1]))
    if since:
        try:
            start = parse_datetime(since)
        except ValueError:
            raise _invalid("since", "is not an ISO 8601 date-time") from None
        rows = [row for row in rows if row[0] >= start]
    if cursor:
        try:
            stamp, _sep, ident = cursor.partition("|")
            after = (parse_datetime(stamp), ident)
        except ValueError:
            raise _invalid("cursor", "is not a cursor this agency gave") from None
        rows = [row for row in rows if (row[0], row[1]) > after]
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = f"{datetime_str(last[0])}|{last[1]}"
    return [row[2] for row in page], next_cursor


# --------------------------------------------------------------------------- input checks


def _required_text(data: dict, name: str, max_len: int, where: str = "") -> str:
    value = data.get(name)
    label = f"{where}{name}"
    if not isinstance(value, str) or not value.strip():
        raise _invalid(label, "is required")
    if len(value) > max_len:
        raise _invalid(label, f"is longer than {max_len} characters")
    return value


def _optional_text(data: dict, name: str, max_len: int, where: str = "") -> str:
    value = data.get(name, "")
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        raise _invalid(f"{where}{name}", "must be a string")
    if len(value) > max_len:
        raise _invalid(f"{where}{name}", f"is longer than {max_len} characters")
    return value


def _amount(data: dict, name: str, where: str = "") -> Decimal:
    value = data.get(name, "0")
    if isinstance(value, Decimal):
        value = str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _AMOUNT_RE.match(value):
        raise _invalid(f"{where}{name}", "must be a decimal string with at most 2 decimals")
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern already checked it
        raise _invalid(f"{where}{name}", "is not a number") from None


def _date(data: dict, name: str, where: str = "") -> dt.date:
    value = data.get(name)
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise _invalid(f"{where}{name}", "must be a date YYYY-MM-DD") from None


def _check_debtor(debtor: Any) -> None:
    where = "debtor."
    if not isinstance(debtor, dict):
        raise _invalid("debtor", "is required")
    if debtor.get("type") not in DEBTOR_TYPES:
        raise _invalid(f"{where}type", f"must be one of {', '.join(DEBTOR_TYPES)}")
    _required_text(debtor, "name", 200, where)
    _optional_text(debtor, "id_number", 40, where)
    lines = debtor.get("address_lines")
    if not isinstance(lines, list) or not any(isinstance(x, str) and x.strip() for x in lines):
        raise _invalid(f"{where}address_lines", "a postal address is required")
    if len(lines) > 4 or not all(isinstance(x, str) and len(x) <= 100 for x in lines):
        raise _invalid(f"{where}address_lines", "at most 4 lines of 100 characters")
    _required_text(debtor, "zip", 20, where)
    _required_text(debtor, "city", 100, where)
    if not _COUNTRY_RE.match(str(debtor.get("country") or "")):
        raise _invalid(f"{where}country", "must be an ISO 3166-1 alpha-2 code such as FI")
    _optional_text(debtor, "email", 200, where)
    _optional_text(debtor, "phone", 40, where)


def _check_claim(claim: Any) -> None:
    where = "claim."
    if not isinstance(claim, dict):
        raise _invalid("claim", "is required")
    if not EXTERNAL_KEY_RE.match(str(claim.get("external_key") or "")):
        raise _invalid(f"{where}external_key", "1-64 characters of A-Z a-z 0-9 . _ : / -")
    _required_text(claim, "invoice_number", 40, where)
    invoice_date = _date(claim, "invoice_date", where)
    due_date = _date(claim, "due_date", where)
    if due_date < invoice_date:
        raise _invalid(f"{where}due_date", "is before the invoice date")
    original = _amount(claim, "original_amount", where)
    outstanding = _amount(claim, "outstanding_amount", where)
    if original <= 0:
        raise _invalid(f"{where}original_amount", "must be positive")
    if outstanding <= 0:
        raise _invalid(f"{where}outstanding_amount", "must be positive")
    if outstanding > original:
        raise _invalid(f"{where}outstanding_amount", "is larger than the original amount")
    for name in ("reminder_fees", "interest"):
        if _amount(claim, name, where) < 0:
            raise _invalid(f"{where}{name}", "must not be negative")
    if not _CURRENCY_RE.match(str(claim.get("currency") or "")):
        raise _invalid(f"{where}currency", "must be an ISO 4217 code such as EUR")
    _optional_text(claim, "reference", 40, where)
    if claim.get("last_reminder_date"):
        _date(claim, "last_reminder_date", where)


# --------------------------------------------------------------------------- faults


class Faults:
    """Switches that make the next calls misbehave. Thread-safe; see the module docstring."""

    def __init__(self):
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self.hang_seconds = 5.0
        self.reset()

    def reset(self) -> None:
        """Clear every switch and cut short the delays of calls waiting right now."""
        with self._lock:
            self._fail: dict[str, Any] | None = None
            self._store_then_fail: dict[str, Any] | None = None
            self._slow: dict[str, Any] | None = None
            self._wake.set()
            self._wake = threading.Event()

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or less when the faults are reset meanwhile."""
        with self._lock:
            wake = self._wake
        wake.wait(seconds)

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        operation: str | None = None,
        skip: int = 0,
        retry_after: float | str | None = None,
    ) -> None:
        """Answer ``status`` (5xx or 429) instead of handling the next ``n`` calls (of
        ``operation``), after letting ``skip`` of them through (e.g. to fail only the lookup
        that follows a create); with a ``Retry-After`` header when ``retry_after`` is given
        (seconds, or an HTTP date as text)."""
        _check_operation(operation)
        with self._lock:
            self._fail = {
                "n": n,
                "status": status,
                "operation": operation,
                "skip": skip,
                "retry_after": retry_after,
            }

    def store_then_fail(self, n: int = 1, mode: str = "error", operation: str | None = None):
        """Apply the next ``n`` writes, then answer 500 (``error``) or hang first (``timeout``)."""
        _check_operation(operation)
        if mode not in ("error", "timeout"):
            raise ValueError("mode is 'error' or 'timeout'")
        with self._lock:
            self._store_then_fail = {"n": n, "mode": mode, "operation": operation}

    def slow(self, seconds: float, n: int | None = None, operation: str | None = None) -> None:
        """Wait ``seconds`` before handling the next ``n`` calls (all calls when None)."""
        _check_operation(operation)
        with self._lock:
            self._slow = {"seconds": seconds, "n": n, "operation": operation}

    @staticmethod
    def _take(rule: dict[str, Any] | None, operation: str) -> bool:
        if not rule or rule["operation"] not in (None, operation):
            return False
        if rule.get("skip"):
            rule["skip"] -= 1
            return False
        if rule["n"] is None:
            return True
        if rule["n"] <= 0:
            return False
        rule["n"] -= 1
        return True

    def take_delay(self, operation: str) -> float:
        with self._lock:
            return self._slow["seconds"] if self._take(self._slow, operation) else 0.0

    def take_failure(self, operation: str) -> tuple[int, float | str | None] | None:
        """(status, Retry-After) to answer this call with, or None to handle it."""
        with self._lock:
            if not self._take(self._fail, operation):
                return None
            return self._fail["status"], self._fail["retry_after"]

    def take_store_then_fail(self, operation: str) -> str | None:
        if operation not in WRITE_OPERATIONS:
            return None
        with self._lock:
            rule = self._store_then_fail
            return rule["mode"] if self._take(rule, operation) else None

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "fail_next": dict(self._fail) if self._fail else None,
                "store_then_fail": dict(self._store_then_fail) if self._store_then_fail else None,
                "slow": dict(self._slow) if self._slow else None,
                "hang_seconds": self.hang_seconds,
            }

    def configure(self, data: dict[str, Any]) -> None:
        """Apply the JSON body of ``POST /_sandbox/faults``."""
        if "fail_next" in data:
            self.fail_next(**data["fail_next"])
        if "store_then_fail" in data:
            self.store_then_fail(**data["store_then_fail"])
        if "slow" in data:
            self.slow(**data["slow"])
        if "hang_seconds" in data:
            self.hang_seconds = float(data["hang_seconds"])


def _check_operation(operation: str | None) -> None:
    if operation is not None and operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}; one of {', '.join(OPERATIONS)}")


# --------------------------------------------------------------------------- SOAP mapping


@dataclass(frozen=True)
class _SoapOp:
    operation: str
    response: str


_SOAP_OPS = {
    "Ping": _SoapOp("ping", "PingResponse"),
    "CreateCase": _SoapOp("create_case", "CreateCaseResponse"),
    "FindCase": _SoapOp("find_case", "FindCaseResponse"),
    "AddPayment": _SoapOp("add_payment", "AddPaymentResponse"),
    "CancelCase": _SoapOp("cancel_case", "CancelCaseResponse"),
    "ListUpdates": _SoapOp("list_updates", "ListUpdatesResponse"),
    "ListSettlements": _SoapOp("list_settlements", "ListSettlementsResponse"),
}
# Wire JSON name -> SOAP element name, in schema order.
_CASE_FIELDS = (
    ("case_number", "CaseNumber"),
    ("external_key", "ExternalKey"),
    ("status", "Status"),
    ("collected_principal", "CollectedPrincipal"),
    ("collected_interest", "CollectedInterest"),
    ("collected_fees", "CollectedFees"),
    ("collected_costs", "CollectedCosts"),
    ("updated_at", "UpdatedAt"),
    ("message", "Message"),
)
_LINE_FIELDS = (
    ("line_id", "LineId"),
    ("remittance_id", "RemittanceId"),
    ("case_number", "CaseNumber"),
    ("external_key", "ExternalKey"),
    ("kind", "Kind"),
    ("amount", "Amount"),
    ("currency", "Currency"),
    ("date", "Date"),
    ("created_at", "CreatedAt"),
)
_DEBTOR_FIELDS = {
    "Type": "type",
    "Name": "name",
    "IdNumber": "id_number",
    "Zip": "zip",
    "City": "city",
    "Country": "country",
    "Email": "email",
    "Phone": "phone",
}
_CLAIM_FIELDS = {
    "ExternalKey": "external_key",
    "InvoiceNumber": "invoice_number",
    "InvoiceDate": "invoice_date",
    "DueDate": "due_date",
    "OriginalAmount": "original_amount",
    "OutstandingAmount": "outstanding_amount",
    "Currency": "currency",
    "Reference": "reference",
    "ReminderFees": "reminder_fees",
    "Interest": "interest",
    "LastReminderDate": "last_reminder_date",
}


def wsdl_text() -> str:
    return resources.files("nordic_billing").joinpath("data", "agency.wsdl").read_text("utf-8")


_SCHEMA_LOCK = threading.Lock()
_SCHEMA: etree.XMLSchema | None = None


def _soap_schema() -> etree.XMLSchema:
    """The XSD inlined in the WSDL, compiled once."""
    global _SCHEMA  # noqa: PLW0603 - compiled lazily and cached for the process
    with _SCHEMA_LOCK:
        if _SCHEMA is None:
            wsdl = etree.fromstring(wsdl_text().encode())
            schema = wsdl.find(".//{http://www.w3.org/2001/XMLSchema}schema")
            _SCHEMA = etree.XMLSchema(etree.ElementTree(schema))
        return _SCHEMA


def _q(name: str) -> str:
    return f"{{{SOAP_NS}}}{name}"


def _text(parent: etree._Element, name: str) -> str | None:
    child = parent.find(_q(name))
    return None if child is None else (child.text or "")


def _xml_debtor(node: etree._Element) -> dict[str, Any]:
    data: dict[str, Any] = {
        json_name: _text(node, xml_name)
        for xml_name, json_name in _DEBTOR_FIELDS.items()
        if node.find(_q(xml_name)) is not None
    }
    data["address_lines"] = [x.text or "" for x in node.findall(_q("AddressLine"))]
    return data


def _xml_claim(node: etree._Element) -> dict[str, Any]:
    return {
        json_name: _text(node, xml_name)
        for xml_name, json_name in _CLAIM_FIELDS.items()
        if node.find(_q(xml_name)) is not None
    }


def _xml_record(tag: str, data: dict[str, Any], names) -> etree._Element:
    node = etree.Element(_q(tag))
    for json_name, xml_name in names:
        value = data.get(json_name)
        if value in (None, ""):
            continue
        etree.SubElement(node, _q(xml_name)).text = str(value)
    return node


def _soap_envelope(body_child: etree._Element) -> bytes:
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV, "tns": SOAP_NS})
    etree.SubElement(env, f"{{{SOAP_ENV}}}Body").append(body_child)
    return etree.tostring(env, xml_declaration=True, encoding="utf-8")


def _soap_fault(faultcode: str, message: str, error: SandboxError | None = None) -> bytes:
    fault = etree.Element(f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(fault, "faultcode").text = f"soap:{faultcode}"
    etree.SubElement(fault, "faultstring").text = message
    if error is not None:
        detail = etree.SubElement(fault, "detail")
        node = etree.SubElement(detail, _q("AgencyFault"))
        etree.SubElement(node, _q("Code")).text = error.code
        etree.SubElement(node, _q("Message")).text = error.message
        if error.field:
            etree.SubElement(node, _q("Field")).text = error.field
        if error.case_number:
            etree.SubElement(node, _q("CaseNumber")).text = error.case_number
    return _soap_envelope(fault)


# --------------------------------------------------------------------------- HTTP


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, state: AgencyState, faults: Faults, rest_prefix, key_header):
        super().__init__(address, _Handler)
        self.state = state
        self.faults = faults
        self.rest_prefix = rest_prefix.rstrip("/")
        self.key_header = key_header
        self._busy = threading.Condition()
        self._in_flight = 0

    def enter(self) -> None:
        with self._busy:
            self._in_flight += 1

    def leave(self) -> None:
        with self._busy:
            self._in_flight -= 1
            self._busy.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._busy:
            return self._busy.wait_for(lambda: self._in_flight == 0, timeout)


_REST_ROUTES: tuple[tuple[str, re.Pattern, str], ...] = (
    ("GET", re.compile(r"^/ping$"), "ping"),
    ("POST", re.compile(r"^/cases$"), "create_case"),
    ("GET", re.compile(r"^/cases$"), "find_case"),
    ("GET", re.compile(r"^/cases/(?P<case>[^/]+)$"), "get_case"),
    ("POST", re.compile(r"^/cases/(?P<case>[^/]+)/payments$"), "add_payment"),
    ("POST", re.compile(r"^/cases/(?P<case>[^/]+)/cancel$"), "cancel_case"),
    ("GET", re.compile(r"^/updates$"), "list_updates"),
    ("GET", re.compile(r"^/settlements$"), "list_settlements"),
)


def _rest_route(method: str, path: str) -> tuple[str, re.Match] | None:
    for route_method, pattern, operation in _REST_ROUTES:
        match = pattern.match(path)
        if match and route_method == method:
            return operation, match
    return None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes
    server_version = "NordicBillingAgencySandbox/1"

    def log_message(self, format, *args):
        """Quiet: tests read the state, not the log."""

    # -- plumbing -------------------------------------------------------------------------

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if status == 401:
                self.send_header("WWW-Authenticate", 'Bearer realm="agency"')
            retry_after = getattr(self, "_retry_after", None)
            if retry_after is not None and status in (429, 503):
                self.send_header("Retry-After", retry_after_text(retry_after))
            self._retry_after = None
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timeout): nothing to tell it

    def _send_json(self, status: int, data: Any) -> None:
        body = b"" if data is None else json.dumps(data).encode()
        self._send(status, body, "application/json")

    def _authorised(self) -> bool:
        key = self.server.state.api_key
        given = self.headers.get(self.server.key_header)
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            given = given or auth[7:].strip()
        return bool(key) and given == key

    def _split(self) -> tuple[str, dict[str, list[str]]]:
        parts = urlsplit(self.path)
        return parts.path, parse_qs(parts.query, keep_blank_values=True)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        self.server.enter()
        try:
            self._route(method)
        finally:
            self.server.leave()

    def _route(self, method: str) -> None:
        path, query = self._split()
        body = self._body()
        if path.startswith("/_sandbox/"):
            self._control(method, path, body)
        elif path == SOAP_PATH:
            if method == "GET" and "wsdl" in {k.lower() for k in query}:
                self._send(200, self._wsdl(), "text/xml; charset=utf-8")
            elif method == "POST":
                self._soap(body)
            else:
                self._send(405, b"POST a SOAP envelope, or GET ?wsdl", "text/plain")
        elif path.startswith(self.server.rest_prefix + "/"):
            self._rest(method, path[len(self.server.rest_prefix) :], query, body)
        else:
            self._send_json(404, SandboxError(404, "not_found", f"no route {path}").to_json())

    def _wsdl(self) -> bytes:
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        text = re.sub(
            r'(<soap:address location=")[^"]*(")',
            rf"\g<1>http://{host}{SOAP_PATH}\g<2>",
            wsdl_text(),
        )
        return text.encode()

    # -- faults around one API call --------------------------------------------------------

    def _before(self, operation: str) -> tuple[int, SandboxError] | None:
        """Delay and injected failure for this call; returns what to answer instead."""
        faults = self.server.faults
        delay = faults.take_delay(operation)
        if delay:
            faults.sleep(delay)
        failure = faults.take_failure(operation)
        if failure is None:
            return None
        status, self._retry_after = failure
        return status, SandboxError(status, "unavailable", "the agency is not available now")

    def _after_store(self, operation: str) -> bool:
        """True when the call was applied but must now look failed."""
        mode = self.server.faults.take_store_then_fail(operation)
        if mode == "timeout":
            self.server.faults.sleep(self.server.faults.hang_seconds)
        return mode is not None

    # -- REST ----------------------------------------------------------------------------

    def _rest(self, method: str, path: str, query: dict[str, list[str]], raw: bytes) -> None:
        routed = _rest_route(method, path)
        if routed is None:
            error = SandboxError(404, "not_found", f"no operation {method} {path}")
            self._send_json(404, error.to_json())
            return
        operation, match = routed
        params = {k: v[-1] for k, v in query.items()}
        request = None
        if not self._authorised():
            status, result = 401, SandboxError(401, "unauthorized", "missing or wrong API key")
        else:
            status, result = self._before(operation) or (200, None)
        if result is None:
            try:
                if raw:
                    try:
                        request = json.loads(raw)
                    except ValueError:
                        raise SandboxError(400, "bad_request", "the body is not JSON") from None
                case = unquote(match.groupdict().get("case") or "")
                status, result = self._rest_call(operation, case, params, request)
            except SandboxError as exc:
                status, result = exc.status, exc
            if 200 <= status < 300 and self._after_store(operation):
                status, result = 500, SandboxError(500, "internal", "the agency failed to answer")
        if isinstance(result, SandboxError):
            result = result.to_json()
        state = self.server.state
        state.record_call("rest", operation, status)
        state.record_exchange(
            {
                "method": method,
                "path": path,
                "query": params,
                "request": request,
                "status": status,
                "response": result,
            }
        )
        self._send_json(status, result)

    def _rest_call(
        self, operation: str, case: str, params: dict[str, str], request: Any
    ) -> tuple[int, Any]:
        state = self.server.state
        body = request if isinstance(request, dict) else {}
        if operation == "ping":
            return 200, {"status": "ok", "time": datetime_str(dt.datetime.now(dt.timezone.utc))}
        if operation == "create_case":
            return 201, state.create_case(body.get("debtor"), body.get("claim"))
        if operation == "find_case":
            key = params.get("external_key", "")
            if not key:
                raise _invalid("external_key", "is required")
            found = state.find_case(key)
            return 200, {"items": [found] if found else []}
        if operation == "get_case":
            return 200, state.get_case(case)
        if operation == "add_payment":
            result, new = state.add_payment(case, request)
            return (201 if new else 200), result
        if operation == "cancel_case":
            return 200, state.cancel_case(case, body.get("reason"))
        lister = getattr(state, operation)  # list_updates, list_settlements
        return 200, lister(params.get("since"), params.get("cursor"), _limit(params.get("limit")))

    # -- SOAP ----------------------------------------------------------------------------

    def _soap(self, raw: bytes) -> None:
        state = self.server.state
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        try:
            envelope = etree.fromstring(raw, parser)
            body = envelope.find(f"{{{SOAP_ENV}}}Body")
            request = body[0] if body is not None and len(body) else None
        except (etree.XMLSyntaxError, ValueError):
            request = None
        name = etree.QName(request).localname if request is not None else ""
        soap_op = _SOAP_OPS.get(name)
        if soap_op is None or etree.QName(request).namespace != SOAP_NS:
            self._send(500, _soap_fault("Client", "not a request of this service"), "text/xml")
            return
        operation = soap_op.operation
        # (HTTP status, status as the REST protocol would say it, body, content type)
        xml = "text/xml; charset=utf-8"
        if not self._authorised():
            answer = (401, 401, b"missing or wrong API key", "text/plain")
        elif injected := self._before(operation):
            status, error = injected
            if status == 500:
                answer = (500, 500, _soap_fault("Server", error.message), xml)
            else:  # 429, 502, 503: what a proxy in front of the service says, without SOAP
                answer = (status, status, error.message.encode(), "text/plain")
        else:
            try:
                schema = _soap_schema()
                if not schema.validate(copy.deepcopy(request)):
                    error = schema.error_log.last_error
                    raise SandboxError(422, "validation", f"schema: {error.message}")
                answer = (200, 200, _soap_envelope(self._soap_call(soap_op, request)), xml)
            except SandboxError as exc:
                answer = (500, exc.status, _soap_fault("Client", exc.message, exc), xml)
            if answer[0] == 200 and self._after_store(operation):
                answer = (500, 500, _soap_fault("Server", "the agency failed to answer"), xml)
        http_status, status, payload, content_type = answer
        state.record_call("soap", operation, status)
        self._send(http_status, payload, content_type)

    def _soap_call(self, soap_op: _SoapOp, request: etree._Element) -> etree._Element:
        state = self.server.state
        response = etree.Element(_q(soap_op.response))
        operation = soap_op.operation
        if operation == "ping":
            etree.SubElement(response, _q("Status")).text = "ok"
        elif operation == "create_case":
            debtor = _xml_debtor(request.find(_q("Debtor")))
            claim = _xml_claim(request.find(_q("Claim")))
            response.append(_xml_record("Case", state.create_case(debtor, claim), _CASE_FIELDS))
        elif operation == "find_case":
            found = state.find_case(_text(request, "ExternalKey") or "")
            if found:
                response.append(_xml_record("Case", found, _CASE_FIELDS))
        elif operation == "add_payment":
            payment = {
                "payment_id": _text(request, "PaymentId"),
                "amount": _text(request, "Amount"),
                "date": _text(request, "Date"),
            }
            case, _new = state.add_payment(_text(request, "CaseNumber") or "", payment)
            response.append(_xml_record("Case", case, _CASE_FIELDS))
        elif operation == "cancel_case":
            case = state.cancel_case(_text(request, "CaseNumber") or "", _text(request, "Reason"))
            response.append(_xml_record("Case", case, _CASE_FIELDS))
        else:
            limit = _limit(_text(request, "Limit"))
            lister = getattr(state, operation)
            page = lister(_text(request, "Since"), _text(request, "Cursor"), limit)
            tag, names = ("Case", _CASE_FIELDS)
            if operation == "list_settlements":
                tag, names = ("Line", _LINE_FIELDS)
            for item in page["items"]:
                response.append(_xml_record(tag, item, names))
            if page.get("next_cursor"):
                etree.SubElement(response, _q("NextCursor")).text = page["next_cursor"]
        return response

    # -- control -------------------------------------------------------------------------

    def _control(self, method: str, path: str, raw: bytes) -> None:
        state, faults = self.server.state, self.server.faults
        try:
            data = json.loads(raw) if raw else {}
            if not isinstance(data, dict):
                raise ValueError("the body must be a JSON object")
            advance = re.match(r"^/_sandbox/cases/([^/]+)/advance$", path)
            if method == "GET" and path in ("/_sandbox/state", "/_sandbox/received"):
                result = state.snapshot()
            elif method == "POST" and path == "/_sandbox/reset":
                state.reset()
                faults.reset()
                result = {"status": "ok"}
            elif method == "POST" and path == "/_sandbox/faults":
                faults.configure(data)
                result = faults.snapshot()
            elif method == "DELETE" and path == "/_sandbox/faults":
                faults.reset()
                result = faults.snapshot()
            elif method == "POST" and path == "/_sandbox/config":
                if "api_key" in data:
                    state.api_key = str(data["api_key"])
                result = {"status": "ok"}
            elif method == "POST" and advance:
                result = state.advance(unquote(advance.group(1)), **data)
            else:
                raise SandboxError(404, "not_found", f"no control {method} {path}")
        except SandboxError as exc:
            self._send_json(exc.status, exc.to_json())
        except (TypeError, ValueError) as exc:
            self._send_json(400, SandboxError(400, "bad_request", str(exc)).to_json())
        else:
            self._send_json(200, result)


def _limit(raw: str | None) -> int:
    if raw in (None, ""):
        return PAGE_LIMIT
    if not str(raw).isdigit() or not 1 <= int(raw) <= MAX_PAGE_LIMIT:
        raise _invalid("limit", f"must be a whole number from 1 to {MAX_PAGE_LIMIT}")
    return int(raw)


# --------------------------------------------------------------------------- entry points


@dataclass
class SandboxHandle:
    """A running sandbox: ``url`` (root), ``rest_url``, ``soap_url``, ``state``, ``faults``."""

    url: str
    state: AgencyState
    faults: Faults
    rest_prefix: str
    _server: _Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def rest_url(self) -> str:
        return self.url + self.rest_prefix

    @property
    def soap_url(self) -> str:
        return self.url + SOAP_PATH

    @property
    def wsdl_url(self) -> str:
        return self.soap_url + "?wsdl"

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no request is being handled (a slow or hanging one may still be running
        after its client gave up); False when ``timeout`` passed first."""
        return self._server.wait_idle(timeout)

    def stop(self) -> None:
        self.faults.reset()  # wake handlers that hang on purpose
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _make_server(host, port, api_key, rest_prefix, key_header) -> _Server:
    return _Server((host, port), AgencyState(api_key), Faults(), rest_prefix, key_header)


def start_in_thread(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    api_key: str = DEFAULT_API_KEY,
    rest_prefix: str = REST_PREFIX,
    key_header: str = "X-API-Key",
) -> SandboxHandle:
    """Start the sandbox in a daemon thread (``port=0``: any free port) and return its handle."""
    server = _make_server(host, port, api_key, rest_prefix, key_header)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},  # stop() returns quickly
        name="agency-sandbox",
        daemon=True,
    )
    thread.start()
    bound_host, bound_port = server.server_address[:2]
    url = f"http://{bound_host}:{bound_port}"
    return SandboxHandle(url, server.state, server.faults, server.rest_prefix, server, thread)


def banner(url: str, api_key: str = DEFAULT_API_KEY) -> str:
    """What a user of the sandbox needs. The backend form takes the server's address only:
    the connection adds the protocol's path (REST ``/rest/v1``, SOAP ``/soap``) itself."""
    return "\n".join(
        [
            f"Collection agency sandbox on {url}",
            f"  Service URL {url}   (the collection backend, protocol Generic REST or SOAP)",
            f"  API key     {api_key}   (authentication: API key header, X-API-Key)",
            f"  REST under {url}{REST_PREFIX}, SOAP at {url}{SOAP_PATH} "
            f"(WSDL {url}{SOAP_PATH}?wsdl)",
            f"  what it received: {url}/_sandbox/received",
        ]
    )


def serve(host: str = "127.0.0.1", port: int = 8071, *, api_key: str = DEFAULT_API_KEY) -> None:
    """Run the sandbox in the foreground until interrupted (``nordic-billing sandbox agency``)."""
    server = _make_server(host, port, api_key, REST_PREFIX, "X-API-Key")
    bound_host, bound_port = server.server_address[:2]
    if bound_host == "0.0.0.0":  # every interface (a container): this machine reaches it here
        bound_host = "127.0.0.1"
    url = f"http://{bound_host}:{bound_port}"
    print(banner(url, api_key), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


__all__ = [
    "DEFAULT_API_KEY",
    "AgencyState",
    "Faults",
    "SandboxError",
    "SandboxHandle",
    "serve",
    "start_in_thread",
]
