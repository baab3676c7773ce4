# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Client for the Procountor REST API (the subset in ``data/procountor-openapi-subset.json``).

* Machine-to-machine login: ``POST /oauth/token`` (form: ``grant_type=client_credentials``,
  ``client_id``, ``client_secret``, ``api_key``). The token is cached until shortly before it
  expires and fetched again once when a call answers 401.
* Every HTTP call has a timeout. 429, 5xx, timeouts and connection errors are retried with
  exponential backoff that honours ``Retry-After``, a bounded number of times.
* A request that changes data (``POST``, the approve and send actions) is never repeated after
  an answer that leaves its outcome open (a timeout, a dropped connection, 500/502/504): the
  client raises :class:`ProcountorUnknownOutcomeError` instead. :meth:`create_ledger_receipt_once`
  and :meth:`create_invoice_once` resolve that outcome by looking the object up by our own unique
  key (voucher name, original invoice number) before any resend. 429 and 503 mean "not done"
  and are retried for every method.
* 4xx answers raise a :class:`ProcountorError` subclass that names field and validation code from
  Procountor's ``{"errors": [{"status", "field", "message"}]}`` body.
* Clients made one per task can share their access tokens through a :class:`TokenCache`, so
  that a new client does not log in again while an earlier client's token is still good.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from nordic_billing import __version__
from nordic_billing.retry import retry_after_seconds

_logger = logging.getLogger(__name__)

PRODUCTION_URL = "https://api.procountor.com/api"
TEST_URL = "https://pts-api.procountor.com/api"
MAX_PAGE_SIZE = 200
PAID_STATUSES = frozenset({"PAID", "MARKED_PAID"})
PARTLY_PAID_STATUS = "PARTLY_PAID"
# Sales-invoice states reached only through approval.
_APPROVED_INVOICE_STATUSES = frozenset(
    {"NOT_SENT", "SENT", "RECEIVED", "PAID", "PARTLY_PAID", "MARKED_PAID", "PAYMENT_QUEUED"}
)
_GONE_STATUSES = frozenset({"DELETED"})
_NOT_DONE_STATUSES = frozenset({429, 503})  # the server says it did not process the request


# -- errors ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorDetail:
    """One entry of Procountor's ``errors`` list."""

    status: int | None
    field: str
    message: str  # a validation code such as TOO_LONG

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class ProcountorError(Exception):
    """A call to Procountor failed. ``retryable`` says whether trying later may help."""

    retryable = False

    def __init__(
        self,
        summary: str,
        *,
        status: int | None = None,
        errors: tuple[ErrorDetail, ...] = (),
        method: str = "",
        path: str = "",
    ) -> None:
        self.summary = summary
        self.status = status
        self.errors = tuple(errors)
        self.method = method
        self.path = path
        super().__init__(str(self))

    @property
    def field(self) -> str:
        """Field of the first error ("" when Procountor named none)."""
        return self.errors[0].field if self.errors else ""

    @property
    def code(self) -> str:
        """Validation code of the first error ("" when none was given)."""
        return self.errors[0].message if self.errors else ""

    def __str__(self) -> str:
        where = f"{self.method} {self.path}".strip()
        text = f"{where}: {self.summary}" if where else self.summary
        if self.status:
            text += f" (HTTP {self.status})"
        if self.errors:
            text += ": " + "; ".join(str(e) for e in self.errors)
        return text


class ProcountorAuthError(ProcountorError):
    """Login failed, or the API refused a freshly issued token (401)."""


class ProcountorPermissionError(ProcountorError):
    """403: the API user lacks the right (or the object is in a state that forbids the action)."""


class ProcountorValidationError(ProcountorError):
    """400: the request broke a validation rule; ``field`` and ``code`` say which."""


class ProcountorNotFoundError(ProcountorError):
    """404: no such object."""


class ProcountorUnavailableError(ProcountorError):
    """5xx, timeouts or connection errors persisted through all retries; nothing was changed."""

    retryable = True


class ProcountorRateLimitedError(ProcountorUnavailableError):
    """429 persisted through all retries (or Procountor asked to wait longer than allowed)."""


class ProcountorUnknownOutcomeError(ProcountorError):
    """A request that changes data may or may not have been carried out.

    Look the object up by its unique key before sending it again.
    ``timed_out`` is true when no answer came (the server may still be working on it).
    """

    retryable = True

    def __init__(self, summary: str, *, timed_out: bool, **kwargs: Any) -> None:
        self.timed_out = timed_out
        super().__init__(summary, **kwargs)


_ERROR_CLASSES = {
    400: ProcountorValidationError,
    401: ProcountorAuthError,
    403: ProcountorPermissionError,
    404: ProcountorNotFoundError,
}


# -- configuration and results -----------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """An API client registered with Procountor plus the API key of a technical API user."""

    client_id: str
    client_secret: str = field(repr=False)
    api_key: str = field(repr=False)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to try a call again."""

    attempts: int = 4  # tries per call, the first included
    backoff: float = 1.0  # wait before the second try; doubles each time
    max_backoff: float = 30.0
    max_retry_after: float = 120.0  # a longer Retry-After ends the call at once

    def wait(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based)."""
        if retry_after is not None:
            return retry_after
        return min(self.max_backoff, self.backoff * 2 ** (attempt - 1))


@dataclass(frozen=True)
class Page:
    results: list[dict]
    page_number: int
    page_size: int
    result_count: int
    total_count: int | None


@dataclass(frozen=True)
class OnceResult:
    """Outcome of a ``create_*_once`` call.

    ``created`` is true when this call saw the object being created; false when it was found
    already there (created by an earlier call whose answer never arrived).
    """

    record: dict
    created: bool

    @property
    def id(self) -> int:
        return self.record["id"]


@dataclass(frozen=True)
class FeatureAccess:
    feature: str
    allowed: bool | None  # None: could not be told (Procountor unavailable)
    detail: str


@dataclass(frozen=True)
class PermissionReport:
    """What the API user may do, as told by read-only probes (nothing is created)."""

    login: FeatureAccess
    features: dict[str, FeatureAccess]

    @property
    def ok(self) -> bool:
        return bool(self.login.allowed)

    def allowed(self, feature: str) -> bool:
        access = self.features.get(feature)
        return bool(access and access.allowed)

    def lines(self) -> list[str]:
        """Human-readable lines for a "Test connection" message."""
        out = [f"{self.login.feature}: {self.login.detail}"]
        out += [f"{a.feature}: {a.detail}" for a in self.features.values()]
        return out


# Read-only calls that tell whether the API user has the right a feature needs.
PERMISSION_PROBES: dict[str, tuple[str, dict]] = {
    "coa": ("/coa", {}),
    "dimensions": ("/dimensions", {}),
    "ledgerreceipts": ("/ledgerreceipts", {"size": 1, "types": "JOURNAL"}),
    "invoices": ("/invoices", {"size": 1, "types": "SALES_INVOICE"}),
    "businesspartners": ("/businesspartners", {"size": 1}),
}


class TokenCache:
    """Access tokens shared by the clients of one process.

    Tokens are kept per environment and API user (a digest of base URL and credentials, so a
    changed secret never reuses an old token). A token the API refuses is dropped for every
    client. Clients sharing a cache must share a clock (the default ``time.monotonic`` is).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}

    @staticmethod
    def key(base_url: str, credentials: Credentials) -> str:
        text = "\n".join(
            (
                base_url.rstrip("/"),
                credentials.client_id,
                credentials.client_secret,
                credentials.api_key,
            )
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def get(self, key: str, now: float) -> tuple[str, float] | None:
        """``(token, expires)`` of the cached token if it is still good at ``now``."""
        with self._lock:
            entry = self._tokens.get(key)
        if entry is None or now >= entry[1]:
            return None
        return entry

    def put(self, key: str, token: str, expires: float) -> None:
        with self._lock:
            self._tokens[key] = (token, expires)

    def drop(self, key: str, token: str) -> None:
        """Forget ``token`` (only that one: another client may have stored a newer token)."""
        with self._lock:
            if self._tokens.get(key, ("",))[0] == token:
                del self._tokens[key]

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


# -- the client --------------------------------------------------------------------------------


class ProcountorClient:
    """One Procountor environment as seen by one technical API user."""

    def __init__(
        self,
        credentials: Credentials,
        base_url: str = PRODUCTION_URL,
        *,
        timeout: float | tuple[float, float] = 30.0,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        token_margin: float = 60.0,
        settle_seconds: float = 5.0,
        token_cache: TokenCache | None = None,
    ) -> None:
        """``sleep``/``clock`` are injectable for tests; ``token_margin`` renews a token that
        far ahead of its expiry; ``settle_seconds`` is waited after a timed-out create before
        looking the object up (the server may still be saving it); ``token_cache`` shares
        tokens with other clients of the same API user."""
        self.credentials = credentials
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.session = session or requests.Session()
        self._sleep = sleep
        self._clock = clock
        self.token_margin = token_margin
        self.settle_seconds = settle_seconds
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = threading.Lock()
        self._token_cache = token_cache
        self._cache_key = TokenCache.key(self.base_url, credentials) if token_cache else ""

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> ProcountorClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- reference data --------------------------------------------------------------------

    def get_coa(self) -> list[dict]:
        """Ledger accounts: ``[{ledgerAccountCode, name, active, ...}]``."""
        return self._call("GET", "/coa").get("ledgerAccounts", [])

    def get_dimensions(self, name: str | None = None, code_name: str | None = None) -> list[dict]:
        """Dimensions with their items; an item with ``status == "P"`` is inactive."""
        return self._call("GET", "/dimensions", params={"name": name, "codeName": code_name})

    # -- ledger receipts (memo vouchers) ---------------------------------------------------

    def create_ledger_receipt(
        self, payload: Mapping, *, create_reconciliation: bool = False
    ) -> dict:
        """``POST /ledgerreceipts`` (never repeated on an open outcome: see the module doc)."""
        params = {"createReconciliation": True} if create_reconciliation else None
        return self._call("POST", "/ledgerreceipts", params=params, body=payload, idempotent=False)

    def create_ledger_receipt_once(self, payload: Mapping) -> OnceResult:
        """Create the voucher unless one with its name and date exists; never create two.

        The name must be unique (see ``vouchers.voucher_name``). After an open outcome the
        voucher is looked up again before the create is repeated.
        """
        name, receipt_date = payload["name"], payload["receiptDate"]
        return self._create_once(
            lambda: self.create_ledger_receipt(payload),
            lambda: self.find_ledger_receipt(name, receipt_date),
            self.get_ledger_receipt,
        )

    def search_ledger_receipts(
        self,
        *,
        start_date: dt.date | str | None = None,
        end_date: dt.date | str | None = None,
        types: tuple[str, ...] = ("JOURNAL",),
        status: str | None = None,
        version_start: dt.datetime | str | None = None,
        version_end: dt.datetime | str | None = None,
        created_start: dt.datetime | str | None = None,
        created_end: dt.datetime | str | None = None,
        name: str | None = None,
        size: int = MAX_PAGE_SIZE,
    ) -> list[dict]:
        """Basic info of matching receipts, all pages.

        The API cannot filter by name; ``name`` filters the results here (exact match), so
        narrow the search with dates.
        """
        params = {
            "startDate": start_date,
            "endDate": end_date,
            "types": types,
            "status": status,
            "versionStartDate": version_start,
            "versionEndDate": version_end,
            "createdStartDate": created_start,
            "createdEndDate": created_end,
        }
        results = self.iter_results("/ledgerreceipts", params, size=size)
        return [r for r in results if name is None or r.get("name") == name]

    def find_ledger_receipt(self, name: str, receipt_date: dt.date | str) -> dict | None:
        """The journal receipt with this exact name on this date (deleted ones left out)."""
        for receipt in self.search_ledger_receipts(
            start_date=receipt_date, end_date=receipt_date, name=name
        ):
            if receipt.get("status") not in _GONE_STATUSES:
                return receipt
        return None

    def get_ledger_receipt(self, receipt_id: int) -> dict:
        return self._call("GET", f"/ledgerreceipts/{int(receipt_id)}")

    def approve_ledger_receipt(self, receipt_id: int) -> bool:
        """Approve an UNFINISHED receipt. Returns False when it was approved already."""
        return self._act_once(
            "PUT",
            f"/ledgerreceipts/{int(receipt_id)}/approve",
            None,
            done=lambda: self.get_ledger_receipt(receipt_id).get("status") == "APPROVED",
        )

    # -- invoices --------------------------------------------------------------------------

    def create_invoice(self, payload: Mapping) -> dict:
        """``POST /invoices`` (never repeated on an open outcome: see the module doc)."""
        return self._call("POST", "/invoices", body=payload, idempotent=False)

    def create_invoice_once(self, payload: Mapping) -> OnceResult:
        """Create the invoice unless one with its ``originalInvoiceNumber`` exists."""
        number = payload.get("originalInvoiceNumber")
        if not number:
            raise ValueError("originalInvoiceNumber (our invoice number) is the key; it is missing")
        return self._create_once(
            lambda: self.create_invoice(payload),
            lambda: self.find_invoice(number),
            self.get_invoice,
        )

    def search_invoices(
        self,
        *,
        status: tuple[str, ...] | None = None,
        types: tuple[str, ...] = ("SALES_INVOICE",),
        start_date: dt.date | str | None = None,
        end_date: dt.date | str | None = None,
        version_start: dt.datetime | str | None = None,
        version_end: dt.datetime | str | None = None,
        business_partner_id: int | None = None,
        original_invoice_number: str | None = None,
        invoice_number: int | None = None,
        invoice_channel: tuple[str, ...] | None = None,
        size: int = MAX_PAGE_SIZE,
    ) -> list[dict]:
        """Basic info of matching invoices, all pages (``versionStartDate`` for polling)."""
        params = {
            "status": status,
            "types": types,
            "startDate": start_date,
            "endDate": end_date,
            "versionStartDate": version_start,
            "versionEndDate": version_end,
            "businessPartnerId": business_partner_id,
            "originalInvoiceNumber": original_invoice_number,
            "invoiceNumber": invoice_number,
            "invoiceChannel": invoice_channel,
        }
        return list(self.iter_results("/invoices", params, size=size))

    def find_invoice(self, original_invoice_number: str) -> dict | None:
        """The sales invoice carrying our invoice number (deleted ones left out)."""
        for invoice in self.search_invoices(original_invoice_number=original_invoice_number):
            if (
                invoice.get("originalInvoiceNumber") == original_invoice_number
                and invoice.get("status") not in _GONE_STATUSES
            ):
                return invoice
        return None

    def get_invoice(self, invoice_id: int) -> dict:
        return self._call("GET", f"/invoices/{int(invoice_id)}")

    def approve_invoice(self, invoice_id: int, comment: str | None = None) -> bool:
        """Approve a sales invoice. Returns False when it was approved already."""

        def done() -> bool:
            return self.get_invoice(invoice_id).get("status") in _APPROVED_INVOICE_STATUSES

        body = {"comment": comment} if comment else {}
        return self._act_once("PUT", f"/invoices/{int(invoice_id)}/approve", body, done=done)

    def send_invoice(self, invoice_id: int) -> None:
        """Send an approved invoice through its channel.

        Sending twice sends twice, so an open outcome is raised as such: check the invoice
        status (``SENT``) before calling again.
        """
        self._call("PUT", f"/invoices/{int(invoice_id)}/send", idempotent=False)

    def get_invoice_payment_events(self, invoice_id: int) -> list[dict]:
        return list(self.iter_results(f"/invoices/{int(invoice_id)}/paymentevents", {}))

    # -- business partners -----------------------------------------------------------------

    def search_business_partners(
        self,
        *,
        version_start: dt.datetime | str | None = None,
        version_end: dt.datetime | str | None = None,
        customer_number: str | None = None,
        partner_type: str | None = None,
        active: bool | None = None,
        name: str | None = None,
        identifier: str | None = None,
        size: int = MAX_PAGE_SIZE,
    ) -> list[dict]:
        """Basic info of matching partners, all pages.

        Procountor only returns active partners unless ``active=False`` is asked. ``name`` and
        ``identifier`` travel as HTTP headers, as the API wants them (UTF-8). The basic info has no
        invoicing channel: read changed partners with :meth:`get_business_partner`.
        """
        params = {
            "versionStartDate": version_start,
            "versionEndDate": version_end,
            "customerNumber": customer_number,
            "type": partner_type,
            "active": active,
        }
        headers = {
            key: value.encode("utf-8")
            for key, value in (("name", name), ("identifier", identifier))
            if value
        }
        return list(self.iter_results("/businesspartners", params, size=size, headers=headers))

    def get_business_partner(self, partner_id: int) -> dict:
        return self._call("GET", f"/businesspartners/{int(partner_id)}")

    # -- test connection -------------------------------------------------------------------

    def probe_permissions(self) -> PermissionReport:
        """Log in and try one read per feature; report allowed / denied / unknown.

        Nothing is created. Creating vouchers needs the ledger-receipt right that reading
        them shows; approving and sending invoices may need more than reading them.
        """
        try:
            self._access_token(force=True)
        except ProcountorError as exc:
            if exc.retryable:
                login = FeatureAccess("login", None, f"Procountor unavailable: {exc}")
            else:
                login = FeatureAccess("login", False, f"failed: {exc}")
            unknown = {f: FeatureAccess(f, None, "not tried: no login") for f in PERMISSION_PROBES}
            return PermissionReport(login, unknown)
        features = {}
        for feature, (path, params) in PERMISSION_PROBES.items():
            try:
                self._call("GET", path, params=params)
            except ProcountorPermissionError as exc:
                features[feature] = FeatureAccess(feature, False, f"denied ({exc.code or 403})")
            except ProcountorError as exc:
                features[feature] = FeatureAccess(feature, None, f"unknown: {exc}")
            else:
                features[feature] = FeatureAccess(feature, True, "allowed")
        return PermissionReport(FeatureAccess("login", True, "ok"), features)

    # -- paging ----------------------------------------------------------------------------

    def get_page(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        page: int = 0,
        size: int = MAX_PAGE_SIZE,
        headers: Mapping[str, Any] | None = None,
    ) -> Page:
        """One page of a search (``{results, meta}``)."""
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise ValueError(f"page size must be 1..{MAX_PAGE_SIZE}")
        query = {**(params or {}), "size": size, "page": page}
        data = self._call("GET", path, params=query, headers=headers)
        results = data.get("results") or []
        meta = data.get("meta") or {}
        return Page(
            results=results,
            page_number=meta.get("pageNumber", page),
            page_size=meta.get("pageSize", size),
            result_count=meta.get("resultCount", len(results)),
            total_count=meta.get("totalCount"),
        )

    def iter_results(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        size: int = MAX_PAGE_SIZE,
        headers: Mapping[str, Any] | None = None,
    ) -> Iterator[dict]:
        """Every result of a search, page after page, ordered by id ascending unless told.

        Ascending ids keep new objects at the end while paging; results are de-duplicated
        by id in case objects shift between pages.
        """
        params = dict(params or {})
        params.setdefault("orderById", "ASC")
        seen: set = set()
        page = 0
        while True:
            chunk = self.get_page(path, params, page=page, size=size, headers=headers)
            for result in chunk.results:
                key = result.get("id")
                if key is not None:
                    if key in seen:
                        continue
                    seen.add(key)
                yield result
            page += 1
            if len(chunk.results) < chunk.page_size or not chunk.results:
                return
            if chunk.total_count is not None and page * chunk.page_size >= chunk.total_count:
                return

    # -- plumbing --------------------------------------------------------------------------

    def _create_once(
        self,
        create: Callable[[], dict],
        find: Callable[[], dict | None],
        fetch: Callable[[int], dict],
    ) -> OnceResult:
        existing = find()
        if existing:
            return OnceResult(fetch(existing["id"]), created=False)
        attempt = 0
        while True:
            attempt += 1
            try:
                return OnceResult(create(), created=True)
            except ProcountorUnknownOutcomeError as exc:
                outcome = exc
            if outcome.timed_out:
                self._sleep(self.settle_seconds)
            try:
                existing = find()
            except ProcountorError as exc:
                raise ProcountorUnknownOutcomeError(
                    f"created or not: the look-up failed too ({exc})",
                    timed_out=outcome.timed_out,
                    method=outcome.method,
                    path=outcome.path,
                ) from exc
            if existing:
                _logger.info("Procountor object %s was created despite the error", existing["id"])
                return OnceResult(fetch(existing["id"]), created=False)
            if attempt >= self.retry.attempts:
                raise outcome
            self._sleep(self.retry.wait(attempt))

    def _act_once(self, method: str, path: str, body: Any, *, done: Callable[[], bool]) -> bool:
        """A state change that fails when repeated: an open or refused outcome is checked."""
        try:
            self._call(method, path, body=body, idempotent=False)
            return True
        except (ProcountorUnknownOutcomeError, ProcountorPermissionError) as exc:
            try:
                already = done()
            except ProcountorError:
                raise exc from None
            if already:
                return False
            raise

    def _access_token(self, *, force: bool = False) -> str:
        with self._token_lock:
            if not force and self._token and self._clock() < self._token_expires:
                return self._token
            if not force and self._token_cache is not None:
                cached = self._token_cache.get(self._cache_key, self._clock())
                if cached:
                    self._token, self._token_expires = cached
                    return self._token
            form = {
                "grant_type": "client_credentials",
                "client_id": self.credentials.client_id,
                "client_secret": self.credentials.client_secret,
                "api_key": self.credentials.api_key,
            }
            response = self._exchange(
                "POST", "/oauth/token", idempotent=True, data=form, headers={}
            )
            if response.status_code != 200:
                raise self._error("POST", "/oauth/token", response, ProcountorAuthError)
            data = _json(response)
            try:
                token, lifetime = data["access_token"], float(data["expires_in"])
            except (KeyError, TypeError, ValueError) as exc:
                raise ProcountorAuthError(
                    "token response without access_token/expires_in",
                    status=200,
                    method="POST",
                    path="/oauth/token",
                ) from exc
            margin = min(self.token_margin, lifetime / 2)
            self._token = token
            self._token_expires = self._clock() + lifetime - margin
            if self._token_cache is not None:
                self._token_cache.put(self._cache_key, token, self._token_expires)
            return token

    def _drop_token(self, token: str) -> None:
        with self._token_lock:
            if self._token == token:
                self._token = None
            if self._token_cache is not None:
                self._token_cache.drop(self._cache_key, token)

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """An authenticated API call; returns the parsed JSON body (``None`` when empty)."""
        if idempotent is None:
            idempotent = method in ("GET", "HEAD")
        query = _query(params or {})
        data = None
        extra = dict(headers or {})
        if body is not None:
            data = json.dumps(body, default=_json_default).encode("utf-8")
            extra["Content-Type"] = "application/json"
        for renewal in (False, True):
            token = self._access_token()
            response = self._exchange(
                method,
                path,
                idempotent=idempotent,
                params=query,
                data=data,
                headers={**extra, "Authorization": f"Bearer {token}"},
            )
            if response.status_code == 401 and not renewal:
                _logger.info("Procountor refused the access token; fetching a new one")
                self._drop_token(token)
                continue
            break
        if response.status_code >= 400:
            raise self._error(method, path, response)
        return _json(response)

    def _exchange(self, method: str, path: str, *, idempotent: bool, **kwargs: Any):
        """Send with retries on 429/5xx/transport errors; return any other answer."""
        url = self.base_url + path
        headers = {"Accept": "application/json", "User-Agent": f"nordic-billing/{__version__}"}
        headers.update(kwargs.pop("headers", {}))
        attempt = 0
        while True:
            attempt += 1
            retry_after = None
            try:
                response = self.session.request(
                    method, url, headers=headers, timeout=self.timeout, **kwargs
                )
            except requests.RequestException as exc:
                if not isinstance(exc, requests.ConnectionError | requests.Timeout):
                    raise ProcountorError(str(exc), method=method, path=path) from exc
                if not idempotent and not _never_sent(exc):
                    raise ProcountorUnknownOutcomeError(
                        f"no answer ({type(exc).__name__})",
                        timed_out=True,
                        method=method,
                        path=path,
                    ) from exc
                failure: str = f"no answer ({type(exc).__name__}: {exc})"
                error_class = ProcountorUnavailableError
                cause: Exception | None = exc
            else:
                status = response.status_code
                if status != 429 and status < 500:
                    return response
                if not idempotent and status not in _NOT_DONE_STATUSES:
                    raise self._error(
                        method, path, response, ProcountorUnknownOutcomeError, timed_out=False
                    )
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                failure = f"HTTP {status}"
                error_class = (
                    ProcountorRateLimitedError if status == 429 else ProcountorUnavailableError
                )
                cause = None
                if attempt >= self.retry.attempts or (
                    retry_after is not None and retry_after > self.retry.max_retry_after
                ):
                    raise self._error(method, path, response, error_class)
            if attempt >= self.retry.attempts:
                raise error_class(
                    f"{failure}, gave up after {attempt} tries", method=method, path=path
                ) from cause
            wait = self.retry.wait(attempt, retry_after)
            _logger.info(
                "Procountor %s %s: %s; try %s of %s in %.1f s",
                method,
                path,
                failure,
                attempt + 1,
                self.retry.attempts,
                wait,
            )
            self._sleep(wait)

    def _error(
        self,
        method: str,
        path: str,
        response: requests.Response,
        error_class: type[ProcountorError] | None = None,
        **extra: Any,
    ) -> ProcountorError:
        status = response.status_code
        if error_class is None:
            error_class = _ERROR_CLASSES.get(status, ProcountorError)
        return error_class(
            response.reason or "error",
            status=status,
            errors=_error_details(response),
            method=method,
            path=path,
            **extra,
        )


# -- helpers -----------------------------------------------------------------------------------


def is_paid(status: str | None) -> bool:
    """Whether an invoice status means fully paid."""
    return status in PAID_STATUSES


def _json(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError as exc:
        raise ProcountorError(
            "answer is not JSON", status=response.status_code, path=response.url
        ) from exc


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _query(params: Mapping[str, Any]) -> dict[str, str]:
    """Query values as Procountor wants them: lists comma-joined, booleans lower case."""
    query = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, dt.datetime):
            text = value.replace(microsecond=0).isoformat()
        elif isinstance(value, dt.date):
            text = value.isoformat()
        elif isinstance(value, list | tuple | set | frozenset):
            if not value:
                continue
            text = ",".join(str(v) for v in value)
        else:
            text = str(value)
        query[key] = text
    return query


def _error_details(response: requests.Response) -> tuple[ErrorDetail, ...]:
    try:
        data = json.loads(response.content) if response.content else None
    except ValueError:
        return ()
    if isinstance(data, dict) and isinstance(data.get("errors"), list):
        return tuple(
            ErrorDetail(
                status=item.get("status"),
                field=str(item.get("field") or ""),
                message=str(item.get("message") or ""),
            )
            for item in data["errors"]
            if isinstance(item, dict)
        )
    if isinstance(data, dict) and "error" in data:  # OAuth style
        text = str(data.get("error_description") or data["error"])
        return (ErrorDetail(response.status_code, "", text),)
    return ()


def _never_sent(exc: requests.RequestException) -> bool:
    """Whether the request surely never reached the server (no connection was made)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)
