# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What a collection case carries, the errors an agency call can end in, and the adapter interface.

Every agency adapter, whatever its wire protocol, offers the same calls (:class:`AgencyAdapter`)
and raises only :class:`AgencyError` subclasses. The protocol-independent safety rules live
here once:

* reads and idempotent writes (a payment carries our ``payment_id``, a cancel is a no-op the
  second time) are retried a bounded number of times with exponential backoff when the agency
  is unavailable (5xx, 429, timeout, connection error);
* a new case is never sent blindly twice: :meth:`AgencyAdapter.create_case` looks the case up
  by our external key first, and again after any failure whose outcome is unknown, before it
  sends once more.

Amounts are :class:`~decimal.Decimal` in Python and decimal strings on the wire; datetimes are
timezone-aware UTC (a naive datetime given to a call is taken as UTC, which is what Odoo stores).
"""

from __future__ import annotations

import abc
import datetime as dt
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, TypeVar

DEBTOR_TYPES = ("person", "company")
CASE_STATUSES = ("open", "paid", "closed", "returned")
SETTLEMENT_KINDS = ("principal", "interest", "fees", "costs", "other")
AUTH_TYPES = ("api_key", "bearer")

#: Our unique key of a case: printable, no spaces, at most 64 characters (see the protocol).
EXTERNAL_KEY_RE = re.compile(r"^[A-Za-z0-9._:/-]{1,64}$")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
_CENT = Decimal("0.01")


def make_external_key(company_ref: object, invoice_ref: object, prefix: str = "") -> str:
    """Our unique case key: ``[prefix:]company/invoice``, e.g. ``"db1:3/INV-2026-0042"``.

    ``company_ref`` scopes the invoice reference (invoice numbers repeat across companies);
    ``prefix`` tells databases apart when several share one agency account. Spaces become ``-``.
    """
    key = f"{company_ref}/{invoice_ref}"
    if prefix:
        key = f"{prefix}:{key}"
    key = re.sub(r"\s+", "-", key.strip())
    if not EXTERNAL_KEY_RE.match(key):
        raise ValueError(
            f"external key {key!r}: use at most 64 of the characters A-Z a-z 0-9 . _ : / -"
        )
    return key


# --------------------------------------------------------------------------- value helpers


def to_decimal(value: Any, what: str = "amount") -> Decimal:
    """A finite Decimal from a Decimal, int, string or float.

    A float (what Odoo's monetary fields hold) is read by its shortest repr, so ``12.3`` is
    ``Decimal("12.3")``, not the binary fraction behind it.
    """
    if isinstance(value, bool) or value is None:
        raise TypeError(f"{what}: give a number, not {value!r}")
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{what}: {value!r} is not a number") from None
    if not result.is_finite():
        raise ValueError(f"{what}: {value!r} is not a finite number")
    return result


def amount_str(value: Decimal) -> str:
    """Wire form of an amount: plain decimal string with two decimals (``"12.50"``)."""
    return format(value.quantize(_CENT), "f")


def utc(value: dt.datetime) -> dt.datetime:
    """The same instant as an aware UTC datetime; a naive value is taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def datetime_str(value: dt.datetime) -> str:
    """Wire form of a datetime: ISO 8601 in UTC with a ``Z`` (``2026-03-01T08:00:00.123456Z``)."""
    return utc(value).isoformat().replace("+00:00", "Z")


def parse_datetime(text: str) -> dt.datetime:
    """Parse an ISO 8601 datetime (``Z`` or offset; naive means UTC) into aware UTC."""
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return utc(dt.datetime.fromisoformat(text))


def parse_date(text: str | dt.date) -> dt.date:
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    return dt.date.fromisoformat(text.strip())


def _coerce_amounts(obj: object, names: tuple[str, ...]) -> None:
    for name in names:
        object.__setattr__(obj, name, to_decimal(getattr(obj, name), name))


def _check_choice(value: str, choices: tuple[str, ...], what: str) -> None:
    if value not in choices:
        raise ValueError(f"{what} must be one of {', '.join(choices)}, not {value!r}")


def _json(obj: object) -> dict[str, Any]:
    """JSON-able dict of a record: amounts as strings, dates and datetimes ISO."""
    data: dict[str, Any] = {}
    for f in fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if isinstance(value, Decimal):
            value = amount_str(value)
        elif isinstance(value, dt.datetime):
            value = datetime_str(value)
        elif isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        data[f.name] = value
    return data


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Debtor:
    """The customer who owes the claim.

    ``id_number`` is the national identity number for a person (henkilötunnus, fødselsnummer,
    personnummer) and the organisation number for a company (Y-tunnus, organisasjonsnummer);
    empty when not known. ``country`` is ISO 3166-1 alpha-2.
    """

    type: str  # "person" or "company"
    name: str
    id_number: str = ""
    address_lines: tuple[str, ...] = ()
    zip: str = ""
    city: str = ""
    country: str = ""
    email: str = ""
    phone: str = ""

    def __post_init__(self):
        _check_choice(self.type, DEBTOR_TYPES, "debtor type")
        object.__setattr__(self, "address_lines", tuple(self.address_lines))

    def to_json(self) -> dict[str, Any]:
        return _json(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Debtor:
        return cls(
            type=data["type"],
            name=data["name"],
            id_number=data.get("id_number") or "",
            address_lines=tuple(data.get("address_lines") or ()),
            zip=data.get("zip") or "",
            city=data.get("city") or "",
            country=data.get("country") or "",
            email=data.get("email") or "",
            phone=data.get("phone") or "",
        )


@dataclass(frozen=True)
class Claim:
    """One overdue invoice handed over as one case.

    ``external_key`` is our unique key of the case (see :func:`make_external_key`); the agency
    keeps it and finds the case by it, which is what makes :meth:`AgencyAdapter.create_case`
    safe to repeat. ``outstanding_amount`` is the open principal; ``reminder_fees`` and
    ``interest`` already charged to the debtor are kept apart from it.
    """

    external_key: str
    invoice_number: str
    invoice_date: dt.date
    due_date: dt.date
    original_amount: Decimal
    outstanding_amount: Decimal
    currency: str
    reference: str = ""  # KID / viite / RF, as printed on the invoice
    reminder_fees: Decimal = Decimal(0)
    interest: Decimal = Decimal(0)
    last_reminder_date: dt.date | None = None

    def __post_init__(self):
        if not EXTERNAL_KEY_RE.match(self.external_key or ""):
            raise ValueError(f"external key {self.external_key!r} is not valid")
        _coerce_amounts(
            self, ("original_amount", "outstanding_amount", "reminder_fees", "interest")
        )
        if not _CURRENCY_RE.match(self.currency or ""):
            raise ValueError(f"currency {self.currency!r}: use the ISO 4217 code, e.g. EUR")

    def to_json(self) -> dict[str, Any]:
        return _json(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Claim:
        last = data.get("last_reminder_date")
        return cls(
            external_key=data["external_key"],
            invoice_number=data["invoice_number"],
            invoice_date=parse_date(data["invoice_date"]),
            due_date=parse_date(data["due_date"]),
            original_amount=to_decimal(data["original_amount"]),
            outstanding_amount=to_decimal(data["outstanding_amount"]),
            currency=data["currency"],
            reference=data.get("reference") or "",
            reminder_fees=to_decimal(data.get("reminder_fees") or 0),
            interest=to_decimal(data.get("interest") or 0),
            last_reminder_date=parse_date(last) if last else None,
        )


@dataclass(frozen=True)
class CaseRef:
    """The agency's case for one claim."""

    case_number: str
    status: str
    external_key: str = ""

    def __post_init__(self):
        _check_choice(self.status, CASE_STATUSES, "case status")

    def to_json(self) -> dict[str, Any]:
        return _json(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CaseRef:
        return cls(
            case_number=str(data["case_number"]),
            status=data["status"],
            external_key=data.get("external_key") or "",
        )


@dataclass(frozen=True)
class CaseUpdate:
    """The agency's current view of a case: a snapshot, so applying it twice changes nothing.

    Collected amounts are running totals of what the agency collected from the debtor, split
    the way it will settle them. Status: ``open``, ``paid`` (claim fully paid), ``closed``
    (cancelled, e.g. after our full credit note) or ``returned`` (the agency gave the case back).
    """

    case_number: str
    status: str
    collected_principal: Decimal
    collected_interest: Decimal
    collected_fees: Decimal
    collected_costs: Decimal
    updated_at: dt.datetime
    external_key: str = ""
    message: str = ""  # the agency's status text, e.g. why a case was returned

    def __post_init__(self):
        _check_choice(self.status, CASE_STATUSES, "case status")
        _coerce_amounts(
            self,
            ("collected_principal", "collected_interest", "collected_fees", "collected_costs"),
        )
        object.__setattr__(self, "updated_at", utc(self.updated_at))

    def to_json(self) -> dict[str, Any]:
        return _json(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CaseUpdate:
        return cls(
            case_number=str(data["case_number"]),
            status=data["status"],
            collected_principal=to_decimal(data["collected_principal"]),
            collected_interest=to_decimal(data["collected_interest"]),
            collected_fees=to_decimal(data["collected_fees"]),
            collected_costs=to_decimal(data["collected_costs"]),
            updated_at=parse_datetime(data["updated_at"]),
            external_key=data.get("external_key") or "",
            message=data.get("message") or "",
        )


@dataclass(frozen=True)
class SettlementLine:
    """One line of an agency remittance, to be booked once.

    ``line_id`` is unique at the agency (book each line once by it); ``remittance_id`` groups
    the lines paid out together. A negative amount is money the agency keeps (its costs).
    ``created_at`` is when the agency recorded the line and is what ``since`` filters on.
    """

    line_id: str
    remittance_id: str
    case_number: str
    kind: str  # principal / interest / fees / costs / other
    amount: Decimal
    currency: str
    date: dt.date
    created_at: dt.datetime
    external_key: str = ""

    def __post_init__(self):
        _check_choice(self.kind, SETTLEMENT_KINDS, "settlement kind")
        _coerce_amounts(self, ("amount",))
        object.__setattr__(self, "created_at", utc(self.created_at))

    def to_json(self) -> dict[str, Any]:
        return _json(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SettlementLine:
        return cls(
            line_id=str(data["line_id"]),
            remittance_id=str(data["remittance_id"]),
            case_number=str(data["case_number"]),
            kind=data["kind"],
            amount=to_decimal(data["amount"]),
            currency=data["currency"],
            date=parse_date(data["date"]),
            created_at=parse_datetime(data["created_at"]),
            external_key=data.get("external_key") or "",
        )


# --------------------------------------------------------------------------- errors


class AgencyError(Exception):
    """Any failure of an agency call. ``retryable`` says whether trying later may help."""

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str = "",
        field: str = "",
    ):
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.field = field


class AgencyValidationError(AgencyError):
    """The agency refused the request (4xx / SOAP client fault); ``message`` is the agency's."""


class AgencyNotFound(AgencyValidationError):
    """The case (or other object) named in the request does not exist at the agency."""


class AgencyConflict(AgencyValidationError):
    """The request clashes with what the agency has (409): a case with this external key
    exists already, a payment id was used with another amount, the case is already paid."""

    def __init__(self, message: str, *, case_number: str = "", **kwargs):
        super().__init__(message, **kwargs)
        self.case_number = case_number


class AgencyAuthError(AgencyError):
    """The agency did not accept our credentials (401/403): fix the backend configuration."""


class AgencyUnavailable(AgencyError):
    """The agency could not be reached or kept failing (5xx, 429, timeouts) after the retries.

    ``maybe_sent`` is false only when the request surely never reached the agency (the connection
    could not be opened, or the agency said 429 "too many requests").
    """

    retryable = True

    def __init__(self, message: str, *, maybe_sent: bool = True, retry_after: float = 0, **kw):
        super().__init__(message, **kw)
        self.maybe_sent = maybe_sent
        self.retry_after = retry_after


class AgencyUnknownOutcome(AgencyError):
    """A write may or may not have been applied, and the agency could not tell us which.

    Safe to try again later: every write is idempotent by our key (the case's external key,
    the payment id) and a new case is looked up before it is sent again.
    """

    retryable = True


# --------------------------------------------------------------------------- registry

#: Adapter classes by ``code``; filled in by every subclass that sets ``code``.
ADAPTERS: dict[str, type[AgencyAdapter]] = {}

_T = TypeVar("_T")


class AgencyAdapter(abc.ABC):
    """One collection agency, whatever its protocol. Subclasses set ``code`` and ``label``.

    Public calls (what the Odoo addon uses): :meth:`create_case`, :meth:`find_case`,
    :meth:`add_payment`, :meth:`cancel_case`, :meth:`list_updates`, :meth:`list_settlements`,
    :meth:`ping`. A protocol implementation provides the ``_send_*``/``_fetch_*`` methods:
    one attempt each, raising :class:`AgencyError` subclasses; retries are done here.
    """

    code: ClassVar[str] = ""
    label: ClassVar[str] = ""
    protocol: ClassVar[str] = ""  # "rest" or "soap"
    #: Header carrying the key when ``auth_type`` is ``api_key``.
    api_key_header: ClassVar[str] = "X-API-Key"
    #: Items asked per page when polling updates and settlements.
    page_limit: ClassVar[int] = 100

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        code = cls.__dict__.get("code")
        if not code:
            return
        known = ADAPTERS.get(code)
        if known is not None and (known.__module__, known.__qualname__) != (
            cls.__module__,
            cls.__qualname__,
        ):
            raise ValueError(f"agency adapter code {code!r} is taken by {known.__qualname__}")
        ADAPTERS[code] = cls

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str = "",
        auth_type: str = "api_key",
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        verify: bool | str = True,
    ):
        """``base_url`` is the agency's root (scheme, host, optional path); each protocol adds
        its own path. ``timeout`` is the read timeout of one attempt, ``max_retries`` the number
        of extra attempts, waiting ``backoff * 2**n`` seconds (at most ``max_backoff``)."""
        _check_choice(auth_type, AUTH_TYPES, "auth type")
        if max_retries < 0 or timeout <= 0 or connect_timeout <= 0:
            raise ValueError("timeouts must be positive and max_retries not negative")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.auth_type = auth_type
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.verify = verify

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.base_url}>"

    def close(self) -> None:  # noqa: B027 - optional hook: not every protocol pools connections
        """Release pooled connections (the adapter can still be used afterwards)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # ------------------------------------------------------------------ public calls

    def ping(self) -> None:
        """Check reachability and credentials; raises :class:`AgencyError` when not fine."""
        self._retrying(self._send_ping)

    def find_case(self, external_key: str) -> CaseRef | None:
        """The agency's case for our external key, or None when it has none."""
        return self._retrying(self._fetch_case_by_key, external_key)

    def create_case(self, debtor: Debtor, claim: Claim) -> CaseRef:
        """Hand a claim over; returns the agency's case. Never makes two cases for one key.

        The case is looked up by ``claim.external_key`` first (a case made by an earlier try
        whose answer was lost is returned as it is). A send that fails with an unknown outcome
        (5xx, timeout, dropped connection) is followed by another lookup before any resend.
        Raises :class:`AgencyUnknownOutcome` when a send may have been applied and the lookup
        could not be done either.
        """
        key = claim.external_key
        existing = self.find_case(key)
        if existing is not None:
            return existing
        attempt = 0
        while True:
            try:
                return self._send_create_case(debtor, claim)
            except AgencyConflict:
                found = self.find_case(key)
                if found is not None:
                    return found
                raise
            except AgencyUnavailable as exc:
                try:
                    found = self.find_case(key)
                except AgencyUnavailable as lookup_exc:
                    if exc.maybe_sent:
                        raise AgencyUnknownOutcome(
                            f"case {key}: the agency may have created it ({exc.message}) and "
                            f"could not be asked ({lookup_exc.message}); it will be looked up "
                            "before it is sent again",
                            status_code=exc.status_code,
                        ) from lookup_exc
                    raise
                if found is not None:
                    return found
                if attempt >= self.max_retries:
                    raise
                self._wait(attempt, exc)
                attempt += 1

    def add_payment(
        self, case_number: str, amount: Decimal, date: dt.date, payment_id: str
    ) -> CaseRef:
        """Tell the agency the debtor paid us ``amount`` directly. Idempotent by ``payment_id``
        (sending it again changes nothing); a negative amount reverses an earlier payment."""
        amount = to_decimal(amount)
        if not amount:
            raise ValueError("payment amount must not be zero")
        if not payment_id:
            raise ValueError("payment_id is required: it makes the call safe to repeat")
        return self._writing(self._send_payment, case_number, amount, date, payment_id)

    def cancel_case(self, case_number: str, reason: str) -> CaseRef:
        """Withdraw the case after a full credit note of its invoice (idempotent)."""
        return self._writing(self._send_cancel, case_number, reason)

    def list_updates(self, since: dt.datetime | None = None) -> list[CaseUpdate]:
        """Current state of every case changed at or after ``since`` (all cases when None),
        oldest change first. Keep the newest ``updated_at`` as the next ``since``."""
        return self._all_pages(self._fetch_updates, since)

    def list_settlements(self, since: dt.datetime | None = None) -> list[SettlementLine]:
        """Settlement lines recorded at or after ``since`` (all when None), oldest first.
        Keep the newest ``created_at`` as the next ``since``; book each ``line_id`` once."""
        return self._all_pages(self._fetch_settlements, since)

    # ------------------------------------------------------------------ protocol hooks

    @abc.abstractmethod
    def _send_ping(self) -> None: ...

    @abc.abstractmethod
    def _fetch_case_by_key(self, external_key: str) -> CaseRef | None: ...

    @abc.abstractmethod
    def _send_create_case(self, debtor: Debtor, claim: Claim) -> CaseRef:
        """One attempt; a duplicate external key must raise :class:`AgencyConflict`."""

    @abc.abstractmethod
    def _send_payment(
        self, case_number: str, amount: Decimal, date: dt.date, payment_id: str
    ) -> CaseRef: ...

    @abc.abstractmethod
    def _send_cancel(self, case_number: str, reason: str) -> CaseRef: ...

    @abc.abstractmethod
    def _fetch_updates(
        self, since: dt.datetime | None, cursor: str | None
    ) -> tuple[list[CaseUpdate], str | None]:
        """One page and the cursor of the next one (None on the last page)."""

    @abc.abstractmethod
    def _fetch_settlements(
        self, since: dt.datetime | None, cursor: str | None
    ) -> tuple[list[SettlementLine], str | None]: ...

    # ------------------------------------------------------------------ retry machinery

    def _wait(self, attempt: int, exc: AgencyUnavailable) -> None:
        delay = max(self.backoff * (2**attempt), exc.retry_after)
        time.sleep(min(delay, self.max_backoff))

    def _retrying(self, call: Callable[..., _T], *args: Any) -> _T:
        """Run an idempotent call, retrying while the agency is unavailable."""
        attempt = 0
        while True:
            try:
                return call(*args)
            except AgencyUnavailable as exc:
                if attempt >= self.max_retries:
                    raise
                self._wait(attempt, exc)
                attempt += 1

    def _writing(self, call: Callable[..., _T], *args: Any) -> _T:
        """Run an idempotent write with retries; a last failure that may have been applied
        becomes :class:`AgencyUnknownOutcome`."""
        try:
            return self._retrying(call, *args)
        except AgencyUnavailable as exc:
            if not exc.maybe_sent:
                raise
            raise AgencyUnknownOutcome(
                f"the agency may have applied the change: {exc.message}",
                status_code=exc.status_code,
            ) from exc

    def _all_pages(self, fetch: Callable[..., tuple[list[_T], str | None]], since) -> list[_T]:
        since = utc(since) if since is not None else None
        items: list[_T] = []
        cursor: str | None = None
        while True:
            page, cursor = self._retrying(fetch, since, cursor)
            items.extend(page)
            if not cursor:
                return items
