# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A local Procountor that enforces the API contract, for tests and for trying things out.

The API is served under ``/api`` like the real hosts, so ``handle.url`` is what goes into a
backend's "API URL" field. Every request (query, path, headers, body) is checked against
``data/procountor-openapi-subset.json`` and answered 400 in Procountor's error format
(``{"errors": [{"status": 400, "field": ..., "message": ...}]}``) when it breaks it. Every
response is checked too: a response that breaks the contract is a sandbox bug, answered 500 and
recorded in ``state.violations`` so that tests can fail loudly.

Beyond the schema the sandbox applies the business rules the integration depends on: receipts
must be JOURNAL, balanced, on active accounts of the chart and on existing active dimension items
whose values add up to the row; invoices need a channel that can be created and the data that
channel needs; approve and send follow the documented status rules.

State is in memory. ``SandboxState`` holds one or more environments (a Procountor company each,
with its chart of accounts, dimensions, receipts, invoices and partners), the registered API
clients and the API users (API key -> environment + permitted features). The default seed is a
Finnish association: clearing account 1710, bank 1910, income in the 3000 series, the billing
service's fees 7850, a cost-centre and a project dimension; client
``sandbox-client``/``sandbox-secret``, API key ``sandbox-api-key`` (every right) and
``least-privilege-api-key`` (chart of accounts and ledger receipts only).

Control, from Python (``handle.state``, ``handle.faults``) or over HTTP under ``/_sandbox``:

=========================================================  =====================================
``GET /_sandbox/state``                                    counts per environment, violations
``GET /_sandbox/received``                                 what clients sent: ledger receipts,
                                                           invoices, partners, recent requests
``POST /_sandbox/reset``                                   back to the seed, faults cleared
``POST /_sandbox/seed`` ``{environment, ledgerAccounts,    replace chart and/or dimensions
dimensions}``
``GET|POST|DELETE /_sandbox/faults``                       list / add / clear faults; POST body
                                                           ``{kind: "status"|"delay", count,
                                                           status, retryAfter, seconds,
                                                           afterProcessing, method, path}``
``POST /_sandbox/tokens/expire``                           every issued token stops working
``PUT /_sandbox/tokens/lifetime`` ``{seconds}``            lifetime of tokens issued from now on
``PUT /_sandbox/apiusers/{apiKey}``                        ``{environment, permissions: [...]}``
``POST /_sandbox/clients`` ``{clientId, clientSecret}``    register an API client
``POST /_sandbox/businesspartners``                        create a partner (``name``,
                                                           ``customerNumber``, ``invoiceChannel``..)
``PUT /_sandbox/businesspartners/{id}/invoicing``          change ``invoiceChannel``,
                                                           ``einvoiceAddress``,
                                                           ``einvoiceOperator``, ``paymentMethod``
``POST /_sandbox/invoices/{id}/payments``                  ``{amount, paymentDate, type}``: a
                                                           payment event; status PAID or
                                                           PARTLY_PAID
=========================================================  =====================================

Control paths take ``?environment=<name>`` (default ``default``).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
import logging
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

from nordic_billing.openapi import CheckedRequest, Contract, Operation, parse_date_time
from nordic_billing.retry import retry_after_text

_logger = logging.getLogger(__name__)

API_PREFIX = "/api"
CONTROL_PREFIX = "/_sandbox"
DEFAULT_ENVIRONMENT = "default"
DEFAULT_CLIENT_ID = "sandbox-client"
DEFAULT_CLIENT_SECRET = "sandbox-secret"
DEFAULT_API_KEY = "sandbox-api-key"
LEAST_PRIVILEGE_API_KEY = "least-privilege-api-key"
ALL_FEATURES = frozenset({"coa", "dimensions", "ledgerreceipts", "invoices", "businesspartners"})
LEAST_PRIVILEGE = frozenset({"coa", "ledgerreceipts"})
TOKEN_LIFETIME = 3600
CENT = Decimal("0.01")


# -- seed data ---------------------------------------------------------------------------------


def default_chart() -> list[dict]:
    """A small chart of a Finnish association (names in Finnish, English translations)."""
    accounts = [
        ("1700", "Myyntisaamiset", "Trade receivables", True),
        ("1710", "Jäsenmaksusaamiset laskutuspalvelulta", "Fees receivable from billing", True),
        ("1910", "Pankkitili", "Bank account", True),
        ("1911", "Säästötili", "Savings account", True),
        ("2939", "Arvonlisäverovelka", "VAT payable", True),
        ("3000", "Jäsenmaksutuotot", "Membership fee income", True),
        ("3010", "Liittymismaksutuotot", "Joining fee income", True),
        ("3020", "Kannatusjäsenmaksut", "Supporting member fees", True),
        ("3050", "Piirin jäsenmaksuosuudet", "District share of fees", True),
        ("3060", "Liiton jäsenmaksuosuudet", "Federation share of fees", True),
        ("3100", "Tapahtumatuotot", "Event income", True),
        ("3999", "Vanhat jäsenmaksutuotot", "Old membership fee income", False),
        ("7850", "Laskutuspalvelun palvelumaksut", "Billing service fees", True),
        ("8500", "Korkotuotot", "Interest income", True),
    ]
    return [
        {
            "ledgerAccountCode": code,
            "name": name,
            "active": active,
            "translations": [{"languageCode": "en", "translation": english}],
        }
        for code, name, english, active in accounts
    ]


def default_dimensions() -> list[dict]:
    """Cost centres per organisation level and projects; item 19 is inactive (status P)."""
    return [
        {
            "id": 1,
            "name": "Kustannuspaikka",
            "items": [
                {"id": 11, "codeName": "LIITTO", "description": "Liitto / federation"},
                {"id": 12, "codeName": "PIIRI", "description": "Piiri / district"},
                {"id": 13, "codeName": "SEURA", "description": "Seura / club"},
                {"id": 19, "codeName": "VANHA", "description": "Closed", "status": "P"},
            ],
        },
        {
            "id": 2,
            "name": "Projekti",
            "items": [
                {"id": 21, "codeName": "JASENYYS", "description": "Jäsenyys / membership"},
                {"id": 22, "codeName": "NUORISO", "description": "Nuorisotoiminta / youth"},
            ],
        },
    ]


def example_ledger_receipt(name: str = "Membership fees 2026-W47 CLUB") -> dict:
    """A memo voucher the default seed accepts (club cost centre, membership project)."""
    return {
        "type": "JOURNAL",
        "name": name,
        "receiptDate": "2026-11-22",
        "vatType": "SALES",
        "vatStatus": 12,
        "transactions": [
            {
                "transactionType": "ENTRY",
                "account": "1710",
                "accountingValue": 40.5,
                "vatPercent": 0,
                "vatStatus": 12,
            },
            {
                "transactionType": "ENTRY",
                "account": "3000",
                "accountingValue": -40.5,
                "vatPercent": 0,
                "vatStatus": 12,
                "dimensionItemValues": [
                    {"dimensionId": 1, "itemId": 13, "value": -40.5},
                    {"dimensionId": 2, "itemId": 21, "value": -40.5},
                ],
            },
        ],
    }


def example_invoice(original_invoice_number: str = "2026-0001", channel: str = "EMAIL") -> dict:
    """A membership-fee sales invoice to the seeded member M-1001 (Procountor makes the FI
    reference)."""
    address = {
        "name": "Maija Meikäläinen",
        "street": "Esimerkkikatu 1",
        "zip": "00100",
        "city": "Helsinki",
        "country": "FINLAND",
    }
    return {
        "type": "SALES_INVOICE",
        "date": "2026-11-22",
        "originalInvoiceNumber": original_invoice_number,
        "counterParty": {
            "customerNumber": "M-1001",
            "email": "maija@example.com",
            "counterPartyAddress": dict(address),
        },
        "billingAddress": dict(address),
        "paymentInfo": {
            "paymentMethod": "BANK_TRANSFER",
            "currency": "EUR",
            "dueDate": "2026-12-06",
            "currencyRate": 1,
            "bankReferenceCode": "",
            "bankReferenceCodeType": "FI",
        },
        "extraInfo": {"accountingByRow": False, "unitPricesIncludeVat": False},
        "discountPercent": 0,
        "invoiceChannel": channel,
        "invoiceRows": [
            {
                "product": "Jäsenmaksu 2027",
                "quantity": 1,
                "unit": "YEAR",
                "unitPrice": 45,
                "discountPercent": 0,
                "vatPercent": 0,
                "vatStatus": 12,
            }
        ],
    }


# -- state -------------------------------------------------------------------------------------


@dataclass
class Environment:
    """One Procountor company."""

    name: str
    accounts: list[dict]
    dimensions: list[dict]
    ledger_receipts: dict[int, dict] = field(default_factory=dict)
    invoices: dict[int, dict] = field(default_factory=dict)
    payment_events: dict[int, list[dict]] = field(default_factory=dict)
    partners: dict[int, dict] = field(default_factory=dict)
    sent: dict[int, int] = field(default_factory=dict)  # invoice id -> times sent


@dataclass
class ApiUser:
    api_key: str
    environment: str
    permissions: frozenset[str]


class SandboxState:
    """Everything the sandbox knows. All access goes through ``lock``."""

    def __init__(
        self,
        *,
        accounts: list[dict] | None = None,
        dimensions: list[dict] | None = None,
        seed_partners: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self._seed = (accounts, dimensions, seed_partners)
        self.reset()

    def reset(self) -> None:
        """Back to the seed: one environment, default clients and users, no tokens."""
        accounts, dimensions, seed_partners = self._seed
        with self.lock:
            self.environments: dict[str, Environment] = {}
            self.clients: dict[str, str] = {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET}
            self.api_users: dict[str, ApiUser] = {}
            self.tokens: dict[str, tuple[str, float]] = {}
            self.token_lifetime: float = TOKEN_LIFETIME
            self.violations: list[str] = []
            # (method, API path, status) of recent API requests, for tests and the curious.
            self.requests: deque[tuple[str, str, int]] = deque(maxlen=10_000)
            self._ids = 0
            self._last_version: dt.datetime | None = None
            self.add_environment(DEFAULT_ENVIRONMENT, accounts=accounts, dimensions=dimensions)
            self.add_api_user(DEFAULT_API_KEY)
            self.add_api_user(LEAST_PRIVILEGE_API_KEY, permissions=LEAST_PRIVILEGE)
            if seed_partners:
                self.add_business_partner(
                    "Maija Meikäläinen", customer_number="M-1001", email="maija@example.com"
                )
                self.add_business_partner(
                    "Urheiluseura Ry",
                    customer_number="M-1002",
                    invoice_channel="ELECTRONIC_INVOICE",
                    einvoice_address="003712345678",
                    einvoice_operator="003721291126",
                    identifier="1234567-1",
                )

    # -- configuration -------------------------------------------------------------------

    def add_environment(
        self, name: str, *, accounts: list[dict] | None = None, dimensions: list[dict] | None = None
    ) -> Environment:
        with self.lock:
            env = Environment(
                name,
                copy.deepcopy(accounts) if accounts is not None else default_chart(),
                copy.deepcopy(dimensions) if dimensions is not None else default_dimensions(),
            )
            self.environments[name] = env
            return env

    def add_client(self, client_id: str, client_secret: str) -> None:
        with self.lock:
            self.clients[client_id] = client_secret

    def add_api_user(
        self,
        api_key: str,
        *,
        environment: str = DEFAULT_ENVIRONMENT,
        permissions: Iterable[str] = ALL_FEATURES,
    ) -> ApiUser:
        permissions = frozenset(permissions)
        if unknown := permissions - ALL_FEATURES:
            raise ValueError(f"unknown features {sorted(unknown)}; known: {sorted(ALL_FEATURES)}")
        with self.lock:
            if environment not in self.environments:
                raise KeyError(f"no environment {environment!r}")
            user = ApiUser(api_key, environment, permissions)
            self.api_users[api_key] = user
            return user

    def environment(self, name: str = DEFAULT_ENVIRONMENT) -> Environment:
        with self.lock:
            try:
                return self.environments[name]
            except KeyError:
                raise KeyError(f"no environment {name!r}") from None

    # -- tokens --------------------------------------------------------------------------

    def issue_token(self, api_key: str) -> tuple[str, int]:
        with self.lock:
            self._ids += 1
            token = f"sandbox-token-{self._ids}-{time.time_ns():x}"
            self.tokens[token] = (api_key, self.clock() + self.token_lifetime)
            return token, int(self.token_lifetime)

    def user_for_token(self, token: str) -> ApiUser | None:
        with self.lock:
            entry = self.tokens.get(token)
            if entry is None or self.clock() >= entry[1]:
                return None
            return self.api_users.get(entry[0])

    def expire_tokens(self) -> None:
        """Every token issued so far stops working at once."""
        with self.lock:
            self.tokens.clear()

    # -- ids and versions ----------------------------------------------------------------

    def next_id(self, base: int) -> int:
        with self.lock:
            self._ids += 1
            return base + self._ids

    def new_version(self) -> str:
        """A timestamp later than every earlier one (Procountor's ``version``)."""
        with self.lock:
            now = dt.datetime.now()
            now = now.replace(microsecond=now.microsecond // 1000 * 1000)
            if self._last_version and now <= self._last_version:
                now = self._last_version + dt.timedelta(milliseconds=1)
            self._last_version = now
            return _format_version(now)

    # -- remote-side actions (what people do in Procountor's UI or what banks do) ----------

    def add_business_partner(
        self,
        name: str,
        *,
        customer_number: str | None = None,
        invoice_channel: str = "EMAIL",
        email: str | None = None,
        einvoice_address: str | None = None,
        einvoice_operator: str | None = None,
        identifier: str | None = None,
        partner_type: str = "CUSTOMER",
        payment_method: str = "BANK_TRANSFER",
        active: bool = True,
        version: dt.datetime | None = None,
        environment: str = DEFAULT_ENVIRONMENT,
    ) -> dict:
        with self.lock:
            env = self.environment(environment)
            invoicing = {"invoiceChannel": invoice_channel, "language": "FINNISH"}
            for key, value in (
                ("customerNumber", customer_number),
                ("email", email),
                ("einvoiceAddress", einvoice_address),
                ("einvoiceOperator", einvoice_operator),
                ("identifier", identifier),
                ("identifierType", "Y_TUNNUS" if identifier else None),
            ):
                if value is not None:
                    invoicing[key] = value
            partner = {
                "id": self.next_id(100),
                "name": name,
                "type": partner_type,
                "billingAddress": {
                    "name": name,
                    "street": "Esimerkkikatu 1",
                    "zip": "00100",
                    "city": "Helsinki",
                    "country": "FINLAND",
                },
                "invoicingInfo": invoicing,
                "paymentInfo": {"paymentMethod": payment_method, "currency": "EUR"},
                "registryInfo": {"active": active},
                "version": _format_version(version) if version else self.new_version(),
            }
            _check_seed(partner, "BusinessPartner")
            env.partners[partner["id"]] = partner
            return copy.deepcopy(partner)

    def set_invoicing_channel(
        self,
        partner_id: int,
        invoice_channel: str,
        *,
        einvoice_address: str | None = None,
        einvoice_operator: str | None = None,
        payment_method: str | None = None,
        environment: str = DEFAULT_ENVIRONMENT,
    ) -> dict:
        """What a receiver's e-invoice order does to the partner register."""
        with self.lock:
            partners = self.environment(environment).partners
            partner = copy.deepcopy(partners[partner_id])
            invoicing = partner.setdefault("invoicingInfo", {})
            invoicing["invoiceChannel"] = invoice_channel
            if einvoice_address is not None:
                invoicing["einvoiceAddress"] = einvoice_address
            if einvoice_operator is not None:
                invoicing["einvoiceOperator"] = einvoice_operator
            if payment_method is not None:
                partner["paymentInfo"]["paymentMethod"] = payment_method
            _check_seed(partner, "BusinessPartner")
            partner["version"] = self.new_version()
            partners[partner_id] = partner
            return copy.deepcopy(partner)

    def add_payment(
        self,
        invoice_id: int,
        amount: Decimal | None = None,
        *,
        payment_date: dt.date | None = None,
        payment_type: str = "REFERENCEPAYMENT",
        environment: str = DEFAULT_ENVIRONMENT,
    ) -> dict:
        """A payment booked on the invoice: status PAID when covered, else PARTLY_PAID."""
        with self.lock:
            env = self.environment(environment)
            invoice = env.invoices[invoice_id]
            total = _invoice_total(invoice)
            events = env.payment_events.setdefault(invoice_id, [])
            paid = sum((Decimal(str(e["amount"])) for e in events), Decimal(0))
            amount = (total - paid) if amount is None else Decimal(amount)
            currency = invoice["paymentInfo"].get("currency", "EUR")
            event = {
                "id": self.next_id(90000),
                "invoiceId": invoice_id,
                "type": payment_type,
                "paymentDate": (payment_date or dt.date.today()).isoformat(),
                "status": "PAID",
                "amount": amount,
                "currency": currency,
                "paidAmount": amount,
                "paidCurrency": currency,
            }
            _check_seed(event, "PaymentEvent")
            events.append(event)
            invoice["status"] = "PAID" if paid + amount >= total else "PARTLY_PAID"
            invoice["version"] = self.new_version()
            return copy.deepcopy(event)

    def received(self) -> dict:
        """What clients sent, per environment, and the latest API requests (newest last)."""
        with self.lock:
            return {
                "environments": {
                    name: {
                        "ledgerReceipts": [_public(r) for r in env.ledger_receipts.values()],
                        "invoices": [_public(r) for r in env.invoices.values()],
                        "businessPartners": [_public(r) for r in env.partners.values()],
                    }
                    for name, env in self.environments.items()
                },
                "requests": [
                    {"method": method, "path": path, "status": status}
                    for method, path, status in list(self.requests)[-200:]
                ],
            }

    def summary(self) -> dict:
        with self.lock:
            return {
                "environments": {
                    name: {
                        "ledgerReceipts": len(env.ledger_receipts),
                        "invoices": len(env.invoices),
                        "businessPartners": len(env.partners),
                    }
                    for name, env in self.environments.items()
                },
                "apiUsers": {
                    key: {"environment": u.environment, "permissions": sorted(u.permissions)}
                    for key, u in self.api_users.items()
                },
                "tokenLifetime": self.token_lifetime,
                "violations": list(self.violations),
            }


# -- faults ------------------------------------------------------------------------------------


@dataclass
class Fault:
    kind: str  # "status": answer ``status`` instead; "delay": wait ``seconds``
    count: int
    status: int = 500
    retry_after: float | str | None = None  # seconds, or an HTTP date
    seconds: float = 0.0
    after_processing: bool = False  # delay: do the work first, then hang (answer comes late)
    method: str | None = None
    path: str | None = None  # prefix of the API path (without /api), e.g. "/ledgerreceipts"

    def matches(self, method: str, path: str) -> bool:
        return (
            self.count > 0
            and (self.method is None or self.method == method)
            and (self.path is None or path.startswith(self.path))
        )


class Faults:
    """Misbehaviour for the next requests. The first matching fault with a count left fires."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        if fault.kind not in ("status", "delay"):
            raise ValueError(f"unknown fault kind {fault.kind!r}")
        if fault.method:
            fault.method = fault.method.upper()
        with self._lock:
            self._faults.append(fault)
        return fault

    def rate_limit(
        self, count: int = 1, retry_after: float | str | None = 1, *, method=None, path=None
    ) -> Fault:
        """429 with ``Retry-After`` for the next ``count`` matching requests."""
        return self.add(Fault("status", count, 429, retry_after, method=method, path=path))

    def server_error(self, count: int = 1, status: int = 500, *, method=None, path=None) -> Fault:
        """``status`` (5xx) for the next ``count`` matching requests; nothing is processed."""
        return self.add(Fault("status", count, status, method=method, path=path))

    def slow(self, seconds: float, count: int = 1, *, method=None, path=None) -> Fault:
        """Wait ``seconds`` before processing the next ``count`` matching requests."""
        return self.add(Fault("delay", count, seconds=seconds, method=method, path=path))

    def store_then_timeout(
        self, seconds: float, count: int = 1, *, method="POST", path="/ledgerreceipts"
    ) -> Fault:
        """Process (store) the request, then hang ``seconds`` before answering."""
        return self.add(
            Fault("delay", count, seconds=seconds, after_processing=True, method=method, path=path)
        )

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    return copy.copy(fault)
            self._faults = [f for f in self._faults if f.count > 0]
        return None

    def describe(self) -> list[dict]:
        with self._lock:
            return [asdict(f) for f in self._faults if f.count > 0]


# -- request handling --------------------------------------------------------------------------


class _Reply(Exception):
    """Answer with this status and body (raised from handlers)."""

    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def _errors(status: int, *problems: tuple[str | None, str]) -> dict:
    out = []
    for field_name, message in problems:
        item: dict[str, Any] = {"status": status, "message": message}
        if field_name:
            item["field"] = field_name
        out.append(item)
    return {"errors": out}


def _fail(status: int, message: str, field_name: str | None = None) -> _Reply:
    return _Reply(status, _errors(status, (field_name, message)))


@dataclass
class _Call:
    """What a handler gets: the checked request and the caller's environment."""

    request: CheckedRequest
    env: Environment | None


class ProcountorSandbox:
    """The application behind the HTTP server: routing, checks, handlers."""

    def __init__(self, state: SandboxState | None = None, faults: Faults | None = None):
        self.state = state or SandboxState()
        self.faults = faults or Faults()
        self.contract = Contract.packaged()
        self.stopping = threading.Event()
        self._routes: dict[tuple[str, str], Callable[[_Call], Any]] = {
            ("POST", "/oauth/token"): self._token,
            ("GET", "/coa"): self._coa,
            ("GET", "/dimensions"): self._dimensions,
            ("POST", "/ledgerreceipts"): self._create_receipt,
            ("GET", "/ledgerreceipts"): self._search_receipts,
            ("GET", "/ledgerreceipts/{receiptId}"): self._get_receipt,
            ("PUT", "/ledgerreceipts/{receiptId}/approve"): self._approve_receipt,
            ("POST", "/invoices"): self._create_invoice,
            ("GET", "/invoices"): self._search_invoices,
            ("GET", "/invoices/{invoiceId}"): self._get_invoice,
            ("PUT", "/invoices/{invoiceId}/approve"): self._approve_invoice,
            ("PUT", "/invoices/{invoiceId}/send"): self._send_invoice,
            ("GET", "/invoices/{invoiceId}/paymentevents"): self._payment_events,
            ("GET", "/businesspartners"): self._search_partners,
            ("GET", "/businesspartners/{id}"): self._get_partner,
        }
        missing = {(op.method, op.path) for op in self.contract.operations} - set(self._routes)
        if missing:
            raise RuntimeError(f"sandbox lacks handlers for {sorted(missing)}")

    # -- entry point -----------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes):
        """Answer one HTTP request: returns ``(status, headers, body bytes)``."""
        parts = urlsplit(target)
        path, query = parts.path, parts.query
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            return self._control(method, path[len(CONTROL_PREFIX) :], query, body)
        if not path.startswith(API_PREFIX + "/"):
            return _encode(404, _errors(404, (None, "NOT_FOUND")))
        api_path = path[len(API_PREFIX) :]
        fault = self.faults.take(method, api_path)
        operation: Operation | None = None
        try:
            if fault and fault.kind == "status":
                extra = {}
                if fault.retry_after is not None:
                    extra["Retry-After"] = retry_after_text(fault.retry_after)
                raise _Reply(fault.status, _errors(fault.status, (None, "SANDBOX_FAULT")), extra)
            if fault and not fault.after_processing and self.stopping.wait(fault.seconds):
                raise _fail(503, "SANDBOX_STOPPING")
            found = self.contract.find_operation(method, api_path)
            if found is None:
                allowed = self.contract.paths_for(api_path)
                raise _fail(
                    405 if allowed else 404, "METHOD_NOT_ALLOWED" if allowed else "NOT_FOUND"
                )
            operation, raw_params = found
            status, payload = 200, self._dispatch(operation, raw_params, query, headers, body)
            reply_headers: dict[str, str] = {}
        except _Reply as reply:
            status, payload, reply_headers = reply.status, reply.body, reply.headers
        except Exception as exc:  # a sandbox bug: make it loud
            _logger.exception("sandbox failure on %s %s", method, path)
            with self.state.lock:
                self.state.violations.append(f"{method} {path}: internal error {exc!r}")
            status, payload, reply_headers = 500, _errors(500, (None, "SANDBOX_ERROR")), {}
        status, data = self._checked_response(method, api_path, operation, status, payload)
        with self.state.lock:
            self.state.requests.append((method, api_path, status))
        if fault and fault.kind == "delay" and fault.after_processing:
            self.stopping.wait(fault.seconds)
        return status, {"Content-Type": "application/json", **reply_headers}, data

    def _checked_response(
        self, method: str, path: str, operation: Operation | None, status: int, payload: Any
    ) -> tuple[int, bytes]:
        data = _dump(payload)
        parsed = json.loads(data, parse_float=Decimal)
        violations = self.contract.check_response(operation, status, "application/json", parsed)
        if violations:
            text = f"{method} {path} -> {status}: " + "; ".join(str(v) for v in violations)
            _logger.error("sandbox response breaks the contract: %s", text)
            with self.state.lock:
                self.state.violations.append(text)
            return 500, _dump(_errors(500, (None, "SANDBOX_RESPONSE_BREAKS_CONTRACT")))
        return status, data

    def _dispatch(
        self,
        operation: Operation,
        raw_params: Mapping[str, str],
        query: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> Any:
        env = None
        if operation.secured:
            auth = headers.get("Authorization", "")
            token = auth[7:].strip() if auth.startswith("Bearer ") else ""
            user = self.state.user_for_token(token) if token else None
            if user is None:
                raise _fail(401, "UNAUTHORIZED")
            feature = operation.path.split("/")[1]
            if feature not in user.permissions:
                raise _fail(403, "INSUFFICIENT_RIGHTS")
            env = self.state.environment(user.environment)
        request = self.contract.check_request(
            operation, raw_params, query, headers, headers.get("Content-Type"), body
        )
        if request.violations:
            raise _Reply(400, _errors(400, *((v.field, v.code) for v in request.violations)))
        with self.state.lock:
            return self._routes[(operation.method, operation.path)](_Call(request, env))

    # -- authentication --------------------------------------------------------------------

    def _token(self, call: _Call) -> dict:
        form = call.request.body
        if self.state.clients.get(form["client_id"]) != form["client_secret"]:
            raise _fail(401, "INVALID_CLIENT")
        if form["api_key"] not in self.state.api_users:
            raise _fail(401, "INVALID_API_KEY")
        token, lifetime = self.state.issue_token(form["api_key"])
        return {"access_token": token, "token_type": "bearer", "expires_in": lifetime}

    # -- reference data --------------------------------------------------------------------

    def _coa(self, call: _Call) -> dict:
        return {"ledgerAccounts": call.env.accounts}

    def _dimensions(self, call: _Call) -> list:
        name = (call.request.query.get("name") or "").lower()
        code = (call.request.query.get("codeName") or "").lower()
        result = []
        for dimension in call.env.dimensions:
            if name and name not in dimension["name"].lower():
                continue
            items = [i for i in dimension.get("items", []) if code in i["codeName"].lower()]
            result.append({**dimension, "items": items})
        return result

    # -- ledger receipts -------------------------------------------------------------------

    def _create_receipt(self, call: _Call) -> dict:
        body = call.request.body
        env = call.env
        if body["type"] != "JOURNAL":
            raise _fail(400, "INVALID_RECEIPT_TYPE", "type")
        accounts = {a["ledgerAccountCode"]: a for a in env.accounts}
        items = {
            (d["id"], i["id"]): i for d in env.dimensions for i in d.get("items", []) if "id" in i
        }
        dimension_ids = {d["id"] for d in env.dimensions}
        transactions = []
        for index, row in enumerate(body["transactions"]):
            where = f"transactions[{index}]"
            account = accounts.get(row["account"])
            if account is None:
                raise _fail(400, "ACCOUNT_NOT_FOUND", f"{where}.account")
            if not account.get("active", True):
                raise _fail(400, "ACCOUNT_INACTIVE", f"{where}.account")
            value = Decimal(row["accountingValue"]).quantize(CENT, ROUND_HALF_UP)
            sums: dict[int, Decimal] = {}
            pairs = set()
            for number, item_value in enumerate(row.get("dimensionItemValues", [])):
                at = f"{where}.dimensionItemValues[{number}]"
                pair = (item_value["dimensionId"], item_value["itemId"])
                if pair[0] not in dimension_ids:
                    raise _fail(400, "DIMENSION_NOT_FOUND", f"{at}.dimensionId")
                if pair not in items:
                    raise _fail(400, "DIMENSION_ITEM_NOT_FOUND", f"{at}.itemId")
                if items[pair].get("status") == "P":
                    raise _fail(400, "DIMENSION_ITEM_INACTIVE", f"{at}.itemId")
                if pair in pairs:
                    raise _fail(400, "DUPLICATE_DIMENSION_ITEM", at)
                pairs.add(pair)
                amount = Decimal(item_value["value"])
                if amount != amount.quantize(CENT):
                    raise _fail(400, "TOO_MANY_DECIMALS", f"{at}.value")
                sums[pair[0]] = sums.get(pair[0], Decimal(0)) + amount
            for total in sums.values():
                if total != value:
                    raise _fail(
                        400, "DIMENSION_VALUES_DO_NOT_MATCH", f"{where}.dimensionItemValues"
                    )
            transactions.append({**row, "id": self.state.next_id(500000), "accountingValue": value})
        if _receipt_imbalance(transactions):
            raise _fail(400, "RECEIPT_NOT_BALANCED", "transactions")
        receipt = {
            **{k: v for k, v in body.items() if k not in ("id", "status", "version")},
            "id": self.state.next_id(1000),
            "status": "UNFINISHED",
            "receiptNumber": len(env.ledger_receipts) + 1,
            "transactions": transactions,
            "version": self.state.new_version(),
            "_created": _format_version(dt.datetime.now()),
        }
        env.ledger_receipts[receipt["id"]] = receipt
        return _public(receipt)

    def _search_receipts(self, call: _Call) -> dict:
        q = call.request.query
        types = set(q.get("types") or ())

        def wanted(r: dict) -> bool:
            return (
                _in_range(r["receiptDate"], q.get("startDate"), q.get("endDate"))
                and _in_time_range(r["_created"], q, "createdStartDate", "createdEndDate")
                and _in_time_range(r["version"], q, "versionStartDate", "versionEndDate")
                and (not types or r["type"] in types)
                and (q.get("status") is None or r["status"] == q["status"])
            )

        basic = (
            "id",
            "type",
            "status",
            "name",
            "receiptDate",
            "receiptNumber",
            "invoiceNumber",
            "version",
        )
        rows = [r for r in call.env.ledger_receipts.values() if wanted(r)]
        rows = _ordered(rows, q, {"orderByDate": "receiptDate", "orderByCreated": "_created"})
        return _paged(rows, q, lambda r: {**_pick(r, basic), "created": r["_created"]})

    def _receipt(self, call: _Call, key: str) -> dict:
        receipt = call.env.ledger_receipts.get(_as_id(call.request.path_params[key]))
        if receipt is None:
            raise _fail(404, "LEDGER_RECEIPT_NOT_FOUND")
        return receipt

    def _get_receipt(self, call: _Call) -> dict:
        return _public(self._receipt(call, "receiptId"))

    def _approve_receipt(self, call: _Call) -> dict:
        receipt = self._receipt(call, "receiptId")
        if receipt["status"] != "UNFINISHED" or receipt["type"] != "JOURNAL":
            raise _fail(403, "INVALID_RECEIPT_STATUS")
        receipt["status"] = "APPROVED"
        receipt["version"] = self.state.new_version()
        return {"message": "Ledger receipt approved"}

    # -- invoices --------------------------------------------------------------------------

    def _create_invoice(self, call: _Call) -> dict:
        body = call.request.body
        env = call.env
        if body["type"] != "SALES_INVOICE":
            raise _fail(400, "UNSUPPORTED_INVOICE_TYPE", "type")
        channel = body["invoiceChannel"]
        if channel in ("EDIFACT", "PAPER_INVOICE"):
            raise _fail(400, "INVALID_INVOICE_CHANNEL", "invoiceChannel")
        if not body["invoiceRows"]:
            raise _fail(400, "INVOICE_ROWS_REQUIRED", "invoiceRows")
        counter = body["counterParty"]
        payment = body["paymentInfo"]
        if "partnerId" in body and body["partnerId"] not in env.partners:
            raise _fail(400, "PARTNER_NOT_FOUND", "partnerId")
        if payment["dueDate"] < body["date"]:
            raise _fail(400, "DUE_DATE_BEFORE_BILL_DATE", "paymentInfo.dueDate")
        if payment["paymentMethod"] == "DIRECT_PAYMENT" and channel not in ("MAIL", "EMAIL"):
            raise _fail(400, "DIRECT_PAYMENT_NEEDS_MAIL_OR_EMAIL", "invoiceChannel")
        if channel == "EMAIL" and not counter.get("email"):
            raise _fail(400, "EMAIL_REQUIRED", "counterParty.email")
        if channel in ("MAIL", "ELECTRONIC_INVOICE"):
            for name, address in (
                ("counterParty.counterPartyAddress", counter["counterPartyAddress"]),
                ("billingAddress", body.get("billingAddress") or {}),
            ):
                for part in ("street", "zip", "city"):
                    if not address.get(part):
                        raise _fail(400, "ADDRESS_REQUIRED", f"{name}.{part}")
        if channel == "ELECTRONIC_INVOICE":
            einvoice = counter.get("einvoiceAddress") or {}
            for part in ("address", "operator"):
                if not einvoice.get(part):
                    raise _fail(
                        400, "EINVOICE_ADDRESS_REQUIRED", f"counterParty.einvoiceAddress.{part}"
                    )
        invoice_number = 10000 + len(env.invoices) + 1
        reference = payment.get("bankReferenceCode")
        kind = payment.get("bankReferenceCodeType", "FI")
        if reference == "":
            reference = _make_reference(str(invoice_number), kind)
        elif reference is not None and not _reference_ok(reference, kind):
            raise _fail(400, "INVALID_REFERENCE_CODE", "paymentInfo.bankReferenceCode")
        invoice = {
            **{k: v for k, v in body.items() if k not in ("id", "status", "version")},
            "id": self.state.next_id(5000),
            "status": "UNFINISHED",
            "invoiceNumber": invoice_number,
            "version": self.state.new_version(),
            "_created": _format_version(dt.datetime.now()),
        }
        if reference is not None:
            invoice["paymentInfo"] = {
                **payment,
                "bankReferenceCode": reference,
                "bankReferenceCodeType": kind,
            }
        invoice["invoiceSumInfo"] = [_sum_info(invoice)]
        env.invoices[invoice["id"]] = invoice
        return _public(invoice)

    def _search_invoices(self, call: _Call) -> dict:
        q = call.request.query
        statuses = set(q.get("status") or ())
        types = set(q.get("types") or ())
        channels = set(q.get("invoiceChannel") or ())
        term = (q.get("searchTerm") or "").lower()

        def wanted(i: dict) -> bool:
            return (
                (not statuses or i["status"] in statuses)
                and (not types or i["type"] in types)
                and (not channels or i["invoiceChannel"] in channels)
                and _in_range(i["date"], q.get("startDate"), q.get("endDate"))
                and _in_range(
                    i["paymentInfo"]["dueDate"], q.get("dueStartDate"), q.get("dueEndDate")
                )
                and _in_time_range(i["_created"], q, "createdStartDate", "createdEndDate")
                and _in_time_range(i["version"], q, "versionStartDate", "versionEndDate")
                and _equal(i.get("partnerId"), q, "businessPartnerId")
                and _equal(i.get("originalInvoiceNumber"), q, "originalInvoiceNumber")
                and _equal(i.get("invoiceNumber"), q, "invoiceNumber")
                and _equal(i.get("factoringContractId"), q, "factoringContractId")
                and (
                    not term
                    or term in i["counterParty"]["counterPartyAddress"]["name"].lower()
                    or term in str(i["invoiceNumber"])
                    or term in i.get("additionalInformation", "").lower()
                )
            )

        rows = [i for i in call.env.invoices.values() if wanted(i)]
        rows = _ordered(rows, q, {"orderByDate": "date", "orderByCreated": "_created"})
        return _paged(rows, q, _invoice_basic)

    def _invoice(self, call: _Call) -> dict:
        invoice = call.env.invoices.get(_as_id(call.request.path_params["invoiceId"]))
        if invoice is None:
            raise _fail(404, "INVOICE_NOT_FOUND")
        return invoice

    def _get_invoice(self, call: _Call) -> dict:
        return _public(self._invoice(call))

    def _approve_invoice(self, call: _Call) -> dict:
        invoice = self._invoice(call)
        if invoice["status"] != "UNFINISHED":
            raise _fail(403, "INVALID_INVOICE_STATUS")
        invoice["status"] = "NOT_SENT"
        invoice["version"] = self.state.new_version()
        return {"message": "Invoice approved"}

    def _send_invoice(self, call: _Call) -> dict:
        invoice = self._invoice(call)
        if invoice["status"] not in ("NOT_SENT", "SENT"):
            raise _fail(403, "INVALID_INVOICE_STATUS")
        invoice["status"] = "SENT"
        invoice["version"] = self.state.new_version()
        call.env.sent[invoice["id"]] = call.env.sent.get(invoice["id"], 0) + 1
        return {"message": "Invoice sent"}

    def _payment_events(self, call: _Call) -> dict:
        invoice = self._invoice(call)
        events = call.env.payment_events.get(invoice["id"], [])
        return _paged(_ordered(events, call.request.query, {}), call.request.query, dict)

    # -- business partners -----------------------------------------------------------------

    def _search_partners(self, call: _Call) -> dict:
        q = call.request.query
        name = _header_text(call.request.headers.get("name")).lower()
        identifier = _header_text(call.request.headers.get("identifier"))
        active = q.get("active", True)

        def wanted(p: dict) -> bool:
            info = p.get("invoicingInfo", {})
            return (
                p.get("registryInfo", {}).get("active", True) == active
                and _equal(info.get("customerNumber"), q, "customerNumber")
                and _equal(info.get("identifierType"), q, "identifierType")
                and _equal(p["type"], q, "type")
                and _in_time_range(p["version"], q, "versionStartDate", "versionEndDate")
                and (not name or name in p["name"].lower())
                and (not identifier or info.get("identifier") == identifier)
            )

        def basic(p: dict) -> dict:
            info = p.get("invoicingInfo", {})
            out = _pick(p, ("id", "name", "billingAddress", "type", "version"))
            out["invoicingInfo"] = _pick(info, ("customerNumber", "identifier", "identifierType"))
            out["registryInfo"] = {"active": p.get("registryInfo", {}).get("active", True)}
            return out

        rows = [p for p in call.env.partners.values() if wanted(p)]
        return _paged(_ordered(rows, q, {}), q, basic)

    def _get_partner(self, call: _Call) -> dict:
        partner = call.env.partners.get(_as_id(call.request.path_params["id"]))
        if partner is None:
            raise _fail(404, "PARTNER_NOT_FOUND")
        return partner

    # -- control ---------------------------------------------------------------------------

    def _control(self, method: str, path: str, query: str, body: bytes):
        state = self.state
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        environment = params.get("environment", DEFAULT_ENVIRONMENT)
        try:
            data = json.loads(body, parse_float=Decimal) if body else {}
        except ValueError:
            return _encode(400, {"error": "body is not JSON"})
        try:
            if method == "GET" and path == "/state":
                return _encode(200, state.summary())
            if method == "GET" and path == "/received":
                return _encode(200, state.received())
            if method == "POST" and path == "/reset":
                state.reset()
                self.faults.clear()
                return _encode(200, {"reset": True})
            if method == "POST" and path == "/seed":
                env = state.environment(data.get("environment", environment))
                with state.lock:
                    if "ledgerAccounts" in data:
                        env.accounts = data["ledgerAccounts"]
                    if "dimensions" in data:
                        env.dimensions = data["dimensions"]
                return _encode(200, {"seeded": env.name})
            if path == "/faults":
                if method == "GET":
                    return _encode(200, self.faults.describe())
                if method == "DELETE":
                    self.faults.clear()
                    return _encode(200, [])
                if method == "POST":
                    fault = self.faults.add(
                        Fault(
                            kind=data.get("kind", "status"),
                            count=int(data.get("count", 1)),
                            status=int(data.get("status", 500)),
                            retry_after=data.get("retryAfter"),
                            seconds=float(data.get("seconds", 0)),
                            after_processing=bool(data.get("afterProcessing", False)),
                            method=data.get("method"),
                            path=data.get("path"),
                        )
                    )
                    return _encode(201, asdict(fault))
            if method == "POST" and path == "/tokens/expire":
                state.expire_tokens()
                return _encode(200, {"expired": True})
            if method == "PUT" and path == "/tokens/lifetime":
                with state.lock:
                    state.token_lifetime = float(data["seconds"])
                return _encode(200, {"seconds": state.token_lifetime})
            if method == "POST" and path == "/clients":
                state.add_client(data["clientId"], data["clientSecret"])
                return _encode(201, {"clientId": data["clientId"]})
            match = re.fullmatch(r"/apiusers/([^/]+)", path)
            if method == "PUT" and match:
                user = state.add_api_user(
                    match.group(1),
                    environment=data.get("environment", environment),
                    permissions=data.get("permissions", ALL_FEATURES),
                )
                return _encode(
                    200, {"apiKey": user.api_key, "permissions": sorted(user.permissions)}
                )
            if method == "POST" and path == "/businesspartners":
                partner = state.add_business_partner(
                    data["name"],
                    customer_number=data.get("customerNumber"),
                    invoice_channel=data.get("invoiceChannel", "EMAIL"),
                    email=data.get("email"),
                    einvoice_address=data.get("einvoiceAddress"),
                    einvoice_operator=data.get("einvoiceOperator"),
                    identifier=data.get("identifier"),
                    payment_method=data.get("paymentMethod", "BANK_TRANSFER"),
                    environment=environment,
                )
                return _encode(201, partner)
            match = re.fullmatch(r"/businesspartners/(\d+)/invoicing", path)
            if method == "PUT" and match:
                partner = state.set_invoicing_channel(
                    int(match.group(1)),
                    data["invoiceChannel"],
                    einvoice_address=data.get("einvoiceAddress"),
                    einvoice_operator=data.get("einvoiceOperator"),
                    payment_method=data.get("paymentMethod"),
                    environment=environment,
                )
                return _encode(200, partner)
            match = re.fullmatch(r"/invoices/(\d+)/payments", path)
            if method == "POST" and match:
                event = state.add_payment(
                    int(match.group(1)),
                    Decimal(str(data["amount"])) if "amount" in data else None,
                    payment_date=dt.date.fromisoformat(data["paymentDate"])
                    if "paymentDate" in data
                    else None,
                    payment_type=data.get("type", "REFERENCEPAYMENT"),
                    environment=environment,
                )
                return _encode(201, event)
        except (KeyError, ValueError, TypeError) as exc:
            return _encode(400, {"error": f"{type(exc).__name__}: {exc}"})
        return _encode(404, {"error": f"no control {method} {path}"})


# -- helpers -----------------------------------------------------------------------------------


def _check_seed(record: dict, schema: str) -> None:
    """Refuse control input that would make the API answer outside its contract later."""
    violations = Contract.packaged().validate(record, schema)
    if violations:
        raise ValueError("; ".join(str(v) for v in violations))


def _format_version(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _dump(payload: Any) -> bytes:
    return json.dumps(payload, default=_json_default, ensure_ascii=False).encode("utf-8")


def _encode(status: int, payload: Any) -> tuple[int, dict, bytes]:
    return status, {"Content-Type": "application/json"}, _dump(payload)


def _public(record: Mapping) -> dict:
    """A stored record without the sandbox's own bookkeeping keys (``_created``)."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


def _pick(record: Mapping, keys: Iterable[str]) -> dict:
    return {k: record[k] for k in keys if k in record}


def _as_id(raw: Any) -> int | None:
    try:
        return int(Decimal(str(raw)))
    except (ArithmeticError, ValueError):
        return None


def _header_text(value: str | None) -> str:
    """A header sent as UTF-8 bytes arrives decoded as Latin-1: decode it properly."""
    if not value:
        return ""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _in_range(value: str, start: dt.date | str | None, end: dt.date | str | None) -> bool:
    day = dt.date.fromisoformat(value)
    return (start is None or day >= dt.date.fromisoformat(str(start))) and (
        end is None or day <= dt.date.fromisoformat(str(end))
    )


def _naive(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone().replace(tzinfo=None) if moment.tzinfo else moment


def _in_time_range(value: str, query: Mapping, start_key: str, end_key: str) -> bool:
    moment = parse_date_time(value)
    start = query.get(start_key)
    end = query.get(end_key)
    return (start is None or moment >= _naive(parse_date_time(start))) and (
        end is None or moment <= _naive(parse_date_time(end))
    )


def _equal(value: Any, query: Mapping, key: str) -> bool:
    return key not in query or value == query[key]


def _ordered(rows: list[dict], query: Mapping, fields: Mapping[str, str]) -> list[dict]:
    """Order by the first ``orderBy*`` asked (id descending by default, as Procountor does)."""
    for param, key in (*fields.items(), ("orderByVersion", "version")):
        if param in query:
            rows = sorted(rows, key=lambda r: (r.get(key, ""), r["id"]))
            return rows[::-1] if query[param] == "DESC" else rows
    descending = query.get("orderById", "DESC") == "DESC"
    rows = sorted(rows, key=lambda r: r["id"], reverse=descending)
    previous = query.get("previousId")
    if previous is not None:
        rows = [r for r in rows if (r["id"] < previous if descending else r["id"] > previous)]
    return rows


def _paged(rows: list[dict], query: Mapping, shape: Callable[[dict], dict]) -> dict:
    size = query.get("size", 50)
    page = query.get("page", 0)
    chunk = rows[page * size : (page + 1) * size] if size > 0 else []
    return {
        "results": [shape(copy.deepcopy(r)) for r in chunk],
        "meta": {
            "pageNumber": page,
            "pageSize": size,
            "resultCount": len(chunk),
            "totalCount": len(rows),
        },
    }


def _receipt_imbalance(transactions: list[dict]) -> bool:
    """Whether the rows plus the VAT Procountor adds to them fail to sum to zero.

    A row with VAT may leave a cent of rounding (Procountor books it), nothing more.
    """
    total = Decimal(0)
    vat_rows = 0
    for row in transactions:
        value = row["accountingValue"]
        percent = Decimal(row["vatPercent"])
        if percent:
            vat_rows += 1
        total += value + (value * percent / 100).quantize(CENT, ROUND_HALF_UP)
    return abs(total) > CENT * vat_rows


def _invoice_total(invoice: Mapping) -> Decimal:
    return Decimal(str(invoice["invoiceSumInfo"][0]["invoiceSumTotal"]))


def _sum_info(invoice: Mapping) -> dict:
    includes_vat = invoice["extraInfo"]["unitPricesIncludeVat"]
    discount = Decimal(invoice.get("discountPercent", 0))
    net_total = vat_total = Decimal(0)
    for row in invoice["invoiceRows"]:
        amount = Decimal(row["quantity"]) * Decimal(row["unitPrice"])
        amount *= (1 - Decimal(row["discountPercent"]) / 100) * (1 - discount / 100)
        percent = Decimal(row["vatPercent"])
        if includes_vat:
            gross = amount.quantize(CENT, ROUND_HALF_UP)
            vat = (gross * percent / (100 + percent)).quantize(CENT, ROUND_HALF_UP)
            net = gross - vat
        else:
            net = amount.quantize(CENT, ROUND_HALF_UP)
            vat = (net * percent / 100).quantize(CENT, ROUND_HALF_UP)
        net_total += net
        vat_total += vat
    return {
        "currency": invoice["paymentInfo"]["currency"],
        "inAccountingCurrency": True,
        "excludingVatTotal": net_total,
        "vatSumTotal": vat_total,
        "invoiceSumTotal": net_total + vat_total,
    }


def _invoice_basic(invoice: dict) -> dict:
    out = _pick(
        invoice,
        (
            "id",
            "partnerId",
            "type",
            "status",
            "invoiceNumber",
            "originalInvoiceNumber",
            "invoiceChannel",
            "date",
            "version",
            "invoiceSumInfo",
            "counterParty",
            "isOffer",
        ),
    )
    out["dueDate"] = invoice["paymentInfo"]["dueDate"]
    out["created"] = invoice["_created"]
    return out


def _fi_check_digit(base: str) -> str:
    weights = (7, 3, 1)
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(reversed(base)))
    return str((10 - total % 10) % 10)


def _make_reference(base: str, kind: str) -> str:
    """A Finnish reference (7-3-1) for ``base``; as RF (ISO 11649) when asked."""
    national = base + _fi_check_digit(base)
    if kind == "RF":
        return "RF" + mod_97_10.calc_check_digits(national + "RF") + national
    return national


def _reference_ok(reference: str, kind: str) -> bool:
    compact = reference.replace(" ", "")
    if kind == "RF":
        return iso11649.is_valid(compact)
    if kind == "FI":
        return (
            compact.isdigit()
            and 4 <= len(compact) <= 20
            and _fi_check_digit(compact[:-1]) == compact[-1]
        )
    return bool(compact)  # other national kinds are not checked here


# -- HTTP server -------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, data = self.server.app.handle(self.command, self.path, self.headers, body)
        try:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up waiting

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        _logger.debug("%s - %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: ProcountorSandbox):
        self.app = app
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request, client_address) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Cut kept-alive connections, as a stopped server would."""
        with self._connections_lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


@dataclass
class SandboxHandle:
    """A sandbox running in a background thread."""

    url: str  # API base URL, e.g. http://127.0.0.1:54321/api
    control_url: str  # http://127.0.0.1:54321/_sandbox
    state: SandboxState
    faults: Faults
    app: ProcountorSandbox
    _server: _Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self) -> None:
        self.app.stopping.set()  # wake handlers that hang on purpose
        self._server.shutdown()
        self._server.server_close()
        self._server.drop_connections()
        self._thread.join(timeout=5)

    def wait(self, timeout: float | None = None) -> None:
        """Block until the server stops (or ``timeout`` seconds pass)."""
        self._thread.join(timeout)

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _urls(server: _Server) -> tuple[str, str]:
    host, port = server.server_address[:2]
    if host == "0.0.0.0":  # every interface (a container): this machine reaches it here
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}{API_PREFIX}", f"http://{host}:{port}{CONTROL_PREFIX}"


def start_in_thread(
    host: str = "127.0.0.1", port: int = 0, *, state: SandboxState | None = None
) -> SandboxHandle:
    """Start a sandbox on ``host:port`` (0 = any free port) and return its handle."""
    app = ProcountorSandbox(state)
    server = _Server((host, port), app)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.name = "procountor-sandbox"
    thread.start()
    url, control_url = _urls(server)
    return SandboxHandle(url, control_url, app.state, app.faults, app, server, thread)


def banner(url: str, control_url: str) -> str:
    """What a user of the sandbox needs: the URL for the backend form, credentials, and where
    to see what it received."""
    return "\n".join(
        [
            f"Procountor sandbox on {url}",
            f"  API URL   {url}   (the Procountor backend: environment 'Custom URL', this URL)",
            f"  client id {DEFAULT_CLIENT_ID}   client secret {DEFAULT_CLIENT_SECRET}",
            f"  API key   {DEFAULT_API_KEY}   (every right; {LEAST_PRIVILEGE_API_KEY}: chart "
            "and ledger receipts only)",
            f"  what it received: {control_url}/received   counts: {control_url}/state",
        ]
    )


def serve(host: str = "127.0.0.1", port: int = 8080, *, state: SandboxState | None = None) -> None:
    """Run a sandbox in the foreground until interrupted (Ctrl-C)."""
    handle = start_in_thread(host, port, state=state)
    print(banner(handle.url, handle.control_url), flush=True)
    try:
        handle.wait()
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()
