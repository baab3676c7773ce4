# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A local Paytrail: the payment API, a hosted payment page, callbacks, refunds, settlements.

It signs and verifies like Paytrail (see :mod:`nordic_billing.paytrail`): a request whose
``signature`` header does not match its ``checkout-*`` headers and body answers 401, a reused
nonce too; every answer is signed with the merchant secret and carries a ``request-id``.
Merchants: the public test merchant ``375917`` / ``SAIPPUAKAUPPIAS`` and the shop-in-shop test
merchant ``695861`` / ``MONISAIPPUAKAUPPIAS``.

API (signed):

==============================================  =================================================
``POST /payments``                              create a payment; answers ``transactionId``,
                                                ``href`` (the hosted page), ``providers``
``GET  /payments/{id}``                         the payment (``checkout-transaction-id`` header)
``POST /payments/{id}/refund``                  refund (part of) a paid payment
``GET  /settlements``                           ``startDate``, ``endDate``, ``bankReference``,
                                                ``limit``: ``[{id, createdAt, settledAt,
                                                settlementReference}]``
``POST /settlements/{id}/payments/report``      the payments of a settlement, with commission,
                                                POSTed (signed) to ``callbackUrl``
==============================================  =================================================

The hosted page ``GET /pay/{id}`` lists the banks; choosing one pays (``ok``), "Cancel" fails
the payment (``fail``). Either way the callback URL is called (after ``callbackDelay``
seconds, from another thread) and the browser is sent to the redirect URL, both with signed
``checkout-*`` parameters.

Control API for tests and testers (not signed):

==============================================  =================================================
``GET  /_sandbox/state`` (or ``/received``)     payments, refunds, settlements, callbacks sent,
                                                calls seen
``POST /_sandbox/reset``                        forget everything
``POST /_sandbox/config``                       ``{"commission_percent": "2.5",
                                                "commission_fixed_cents": 10,
                                                "extra_params": {"checkout-new": "x"}}``
``POST /_sandbox/payments/{id}/complete``       ``{"status": "ok|pending|delayed|fail",
                                                "provider": "nordea", "callback": true}``: as if
                                                the payer did it; answers the signed
                                                ``redirect_url`` and the callback's HTTP status
``POST /_sandbox/settlements``                  ``{"transactions": [ids], "settled_at":
                                                "2026-03-02"}`` (default: every paid, unsettled
                                                payment): pay them out net of commission
==============================================  =================================================
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import threading
import time
import uuid
from collections import deque
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from nordic_billing import paytrail
from nordic_billing.references import KINDS

MERCHANTS = {
    paytrail.TEST_MERCHANT_ID: paytrail.TEST_SECRET,
    "695861": "MONISAIPPUAKAUPPIAS",
}
BANKS = (
    ("osuuspankki", "OP"),
    ("nordea", "Nordea"),
    ("danske", "Danske Bank"),
    ("saastopankki", "Säästöpankki"),
    ("pop", "POP Pankki"),
    ("aktia", "Aktia"),
    ("spankki", "S-Pankki"),
    ("handelsbanken", "Handelsbanken"),
    ("alandsbanken", "Ålandsbanken"),
    ("omasp", "OmaSP"),
)
CALLBACK_TIMEOUT = 10.0
HISTORY = 10_000
MAX_AMOUNT = 99_999_999
LANGUAGES = ("FI", "SV", "EN")
_UUID_RE = r"[0-9a-f-]{36}"


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _required(data: dict, name: str, kind: type = str) -> Any:
    value = data.get(name)
    if value is None or value == "" or not isinstance(value, kind) or isinstance(value, bool):
        raise ApiError(400, f"{name} is required and must be a {kind.__name__}")
    return value


def _urls(data: dict, name: str, required: bool = True) -> dict[str, str] | None:
    urls = data.get(name)
    if urls is None and not required:
        return None
    if not isinstance(urls, dict):
        raise ApiError(400, f"{name} is required: {{success, cancel}}")
    for key in ("success", "cancel"):
        url = urls.get(key)
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ApiError(400, f"{name}.{key} must be an http(s) URL")
        if len(url) > 300:
            raise ApiError(400, f"{name}.{key} is longer than 300 characters")
    return {"success": urls["success"], "cancel": urls["cancel"]}


class PaytrailState:
    """The sandbox's books; thread-safe."""

    def __init__(self):
        self._lock = threading.RLock()
        self._busy = threading.Condition(self._lock)
        self._in_flight = 0
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.payments: dict[str, dict[str, Any]] = {}
            self.refunds: dict[str, dict[str, Any]] = {}
            self.settlements: list[dict[str, Any]] = []
            self.callbacks: deque[dict[str, Any]] = deque(maxlen=HISTORY)
            self.calls: deque[tuple[str, str, int]] = deque(maxlen=HISTORY)
            self.nonces: set[tuple[str, str]] = set()
            self.commission_percent = Decimal("2.0")
            self.commission_fixed_cents = 10
            self.extra_params: dict[str, str] = {}

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "payments": list(self.payments.values()),
                "refunds": list(self.refunds.values()),
                "settlements": list(self.settlements),
                "callbacks": list(self.callbacks),
                "calls": [list(call) for call in self.calls],
            }

    def commission(self, amount_cents: int) -> int:
        percent = (Decimal(amount_cents) * self.commission_percent / 100).quantize(
            Decimal("1"), rounding=ROUND_HALF_UP
        )
        return int(percent) + self.commission_fixed_cents

    # -- callbacks run in their own threads; tests wait for them --------------------------

    def callback_started(self) -> None:
        with self._busy:
            self._in_flight += 1

    def callback_done(self, record: dict[str, Any]) -> None:
        with self._busy:
            self.callbacks.append(record)
            self._in_flight -= 1
            self._busy.notify_all()

    def wait_callbacks(self, timeout: float) -> bool:
        with self._busy:
            return self._busy.wait_for(lambda: self._in_flight == 0, timeout)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, state: PaytrailState):
        super().__init__(address, _Handler)
        self.state = state

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        # Listening on every interface (a container): this machine reaches it on 127.0.0.1.
        return f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}"


def _return_params(payment: dict[str, Any], extra: dict[str, str]) -> dict[str, str]:
    """The signed ``checkout-*`` parameters of a redirect or callback about ``payment``."""
    params = {
        "checkout-account": payment["account"],
        "checkout-algorithm": payment["algorithm"],
        "checkout-amount": str(payment["amount"]),
        "checkout-stamp": payment["stamp"],
        "checkout-reference": payment["reference"],
        "checkout-transaction-id": payment["transactionId"],
        "checkout-status": payment["status"],
        "checkout-provider": payment.get("provider") or "",
        **extra,
    }
    if payment.get("settlementReference"):
        params["checkout-settlement-reference"] = payment["settlementReference"]
    params["signature"] = paytrail.sign(
        MERCHANTS[payment["account"]], params, "", payment["algorithm"]
    )
    return params


def _with_query(url: str, params: dict[str, str]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "NordicBillingPaytrailSandbox/1"

    def log_message(self, format, *args):
        """Quiet: the state tells what happened."""

    # -- plumbing ------------------------------------------------------------------------

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send_json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data).encode(), {"Content-Type": "application/json"})

    def _send_html(self, status: int, text: str) -> None:
        self._send(status, text.encode(), {"Content-Type": "text/html; charset=utf-8"})

    def _redirect(self, url: str) -> None:
        self._send(303, b"", {"Location": url})

    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def _route(self, method: str) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            if path.startswith("/_sandbox/"):
                self._control(method, path[len("/_sandbox") :], raw)
            elif path.startswith("/pay/"):
                self._hosted(method, path, raw)
            else:
                self._api(method, path, query, raw)
        except ApiError as exc:
            self._send_json(exc.status, {"status": "error", "message": exc.message})

    # -- the signed API ------------------------------------------------------------------

    def _api(self, method: str, path: str, query: dict[str, str], raw: bytes) -> None:
        state = self.server.state
        headers = {key.lower(): value for key, value in self.headers.items()}
        account = headers.get("checkout-account", "")
        secret = MERCHANTS.get(account)
        operation = f"{method} {re.sub(_UUID_RE, '{id}', path)}"
        request_id = str(uuid.uuid4())
        if secret is None or not paytrail.verify(secret, headers, headers.get("signature"), raw):
            state.calls.append(("api", operation, 401))
            self._send_json(401, {"status": "error", "message": "Invalid signature"})
            return
        nonce = (account, headers.get("checkout-nonce", ""))
        with state._lock:
            replay = not nonce[1] or nonce in state.nonces
            state.nonces.add(nonce)
        if (
            replay
            or headers.get("checkout-method") != method
            or not headers.get("checkout-timestamp")
        ):
            state.calls.append(("api", operation, 401))
            self._send_json(
                401, {"status": "error", "message": "Missing or reused nonce, method or timestamp"}
            )
            return
        algorithm = headers.get("checkout-algorithm", "sha256")
        try:
            try:
                data = json.loads(raw) if raw else {}
            except ValueError:
                raise ApiError(400, "the body is not JSON") from None
            status, result = self._operation(method, path, query, data, account, algorithm, headers)
        except ApiError as exc:
            status, result = exc.status, {"status": "error", "message": exc.message}
        state.calls.append(("api", operation, status))
        body = json.dumps(result, ensure_ascii=False)
        answer = {
            "checkout-account": account,
            "checkout-algorithm": algorithm,
            "checkout-nonce": uuid.uuid4().hex,
            "checkout-timestamp": _now().isoformat(timespec="milliseconds"),
        }
        answer["signature"] = paytrail.sign(secret, answer, body, algorithm)
        answer["request-id"] = request_id
        answer["Content-Type"] = paytrail.JSON_CONTENT_TYPE
        self._send(status, body.encode(), answer)

    def _operation(self, method, path, query, data, account, algorithm, headers):
        if method == "POST" and path == "/payments":
            return 201, self._create(data, account, algorithm)
        match = re.fullmatch(rf"/payments/({_UUID_RE})(/refund)?", path)
        if match:
            payment = self._payment(match.group(1), account)
            if headers.get("checkout-transaction-id") != payment["transactionId"]:
                raise ApiError(400, "checkout-transaction-id header does not match the path")
            if method == "GET" and not match.group(2):
                return 200, _public(payment)
            if method == "POST" and match.group(2):
                return 201, self._refund(payment, data)
        if method == "GET" and path == "/settlements":
            return 200, self._list_settlements(query, account)
        match = re.fullmatch(r"/settlements/(\d+)/payments/report", path)
        if method == "POST" and match:
            return 200, self._report(int(match.group(1)), data, account)
        raise ApiError(404, f"no operation {method} {path}")

    def _payment(self, transaction_id: str, account: str) -> dict[str, Any]:
        payment = self.server.state.payments.get(transaction_id)
        if payment is None or payment["account"] != account:
            raise ApiError(404, f"payment {transaction_id} not found")
        return payment

    def _create(self, data: dict, account: str, algorithm: str) -> dict[str, Any]:
        state = self.server.state
        stamp = _required(data, "stamp")
        reference = _required(data, "reference")
        if len(stamp) > 200 or len(reference) > 200:
            raise ApiError(400, "stamp and reference are at most 200 characters")
        amount = _required(data, "amount", int)
        if not 0 < amount <= MAX_AMOUNT:
            raise ApiError(400, f"amount must be between 1 and {MAX_AMOUNT} cents")
        if data.get("currency") != "EUR":
            raise ApiError(400, "currency must be EUR")
        if data.get("language") not in LANGUAGES:
            raise ApiError(400, f"language must be one of {', '.join(LANGUAGES)}")
        items = data.get("items")
        if items is not None:
            try:
                total = sum(int(i["unitPrice"]) * int(i["units"]) for i in items)
            except (KeyError, TypeError, ValueError):
                raise ApiError(400, "items need unitPrice and units") from None
            if total != amount:
                raise ApiError(400, f"amount {amount} does not equal the sum of items {total}")
        customer = data.get("customer")
        if not isinstance(customer, dict) or not customer.get("email"):
            raise ApiError(400, "customer.email is required")
        redirect_urls = _urls(data, "redirectUrls")
        callback_urls = _urls(data, "callbackUrls", required=False)
        delay = data.get("callbackDelay", 0)
        if not isinstance(delay, int) or not 0 <= delay <= 900:
            raise ApiError(400, "callbackDelay must be 0 to 900 seconds")
        with state._lock:
            if any(
                p["stamp"] == stamp and p["account"] == account for p in state.payments.values()
            ):
                raise ApiError(400, f"Duplicate stamp {stamp}")
            transaction_id = str(uuid.uuid4())
            href = f"{self.server.url}/pay/{transaction_id}"
            state.payments[transaction_id] = {
                "transactionId": transaction_id,
                "account": account,
                "algorithm": algorithm,
                "status": "new",
                "amount": amount,
                "currency": "EUR",
                "stamp": stamp,
                "reference": reference,
                "language": data["language"],
                "createdAt": _now().isoformat(timespec="seconds"),
                "href": href,
                "provider": "",
                "paidAt": "",
                "customer": customer,
                "redirectUrls": redirect_urls,
                "callbackUrls": callback_urls,
                "callbackDelay": delay,
                "refunded": 0,
                "settlementReference": "",
                "commission": 0,
            }
        return {
            "transactionId": transaction_id,
            "href": href,
            "reference": reference,
            "terms": "Sandbox terms: nothing is paid for real.",
            "groups": [{"id": "bank", "name": "Online banks"}],
            "providers": [
                {
                    "url": f"{self.server.url}/pay/{transaction_id}/{code}",
                    "icon": "",
                    "svg": "",
                    "name": name,
                    "group": "bank",
                    "id": code,
                    "parameters": [{"name": "sandbox", "value": "1"}],
                }
                for code, name in BANKS
            ],
        }

    def _refund(self, payment: dict[str, Any], data: dict) -> dict[str, Any]:
        state = self.server.state
        amount = _required(data, "amount", int)
        refund_stamp = _required(data, "refundStamp")
        refund_reference = str(data.get("refundReference") or "")
        callback_urls = _urls(data, "callbackUrls")
        with state._lock:
            if payment["status"] != "ok":
                raise ApiError(
                    400, f"only a paid payment can be refunded (it is {payment['status']})"
                )
            left = payment["amount"] - payment["refunded"]
            if not 0 < amount <= left:
                raise ApiError(400, f"refund amount {amount} is not within the {left} cents left")
            if any(r["refundStamp"] == refund_stamp for r in state.refunds.values()):
                raise ApiError(400, f"Duplicate refundStamp {refund_stamp}")
            payment["refunded"] += amount
            refund_id = str(uuid.uuid4())
            refund = {
                "transactionId": refund_id,
                "paymentTransactionId": payment["transactionId"],
                "account": payment["account"],
                "algorithm": payment["algorithm"],
                "amount": amount,
                "stamp": refund_stamp,
                "refundStamp": refund_stamp,
                "reference": refund_reference,
                "status": "ok",
                "provider": payment["provider"],
                "callbackUrls": callback_urls,
                "callbackDelay": 0,
            }
            state.refunds[refund_id] = refund
        self._notify(refund, callback=True, redirect=False)
        return {"transactionId": refund_id, "provider": payment["provider"], "status": "ok"}

    def _list_settlements(self, query: dict[str, str], account: str) -> list[dict[str, Any]]:
        settlements = [s for s in self.server.state.settlements if s["account"] == account]
        if query.get("bankReference"):
            settlements = [
                s for s in settlements if s["settlementReference"] == query["bankReference"]
            ]
        if query.get("startDate"):
            settlements = [s for s in settlements if s["settledAt"] > query["startDate"]]
        if query.get("endDate"):
            settlements = [s for s in settlements if s["settledAt"] <= query["endDate"]]
        settlements = sorted(settlements, key=lambda s: s["id"], reverse=True)
        limit = query.get("limit")
        if limit:
            if not limit.isdigit():
                raise ApiError(400, "limit must be a number")
            settlements = settlements[: int(limit)]
        return [
            {k: s[k] for k in ("id", "createdAt", "settledAt", "settlementReference")}
            for s in settlements[:100]
        ]

    def _report(self, settlement_id: int, data: dict, account: str) -> dict[str, Any]:
        settlement = next(
            (
                s
                for s in self.server.state.settlements
                if s["id"] == settlement_id and s["account"] == account
            ),
            None,
        )
        if settlement is None:
            raise ApiError(404, f"settlement {settlement_id} not found")
        if data.get("requestType") != "json":
            raise ApiError(400, "requestType must be json in the sandbox")
        url = _required(data, "callbackUrl")
        payments = self.server.state.payments
        report = [
            {
                "amount": float(paytrail.from_cents(payments[t]["amount"])),
                "status": "Paid",
                "reference": payments[t]["reference"],
                "stamp": payments[t]["stamp"],
                "checkoutReference": payments[t]["transactionId"],
                "paymentMethod": payments[t]["provider"],
                "paymentMethodCommission": float(paytrail.from_cents(payments[t]["commission"])),
                "settlementId": settlement["id"],
                "settlementDate": settlement["settledAt"],
                "settlementReference": settlement["settlementReference"],
            }
            for t in settlement["transactions"]
        ]
        body = json.dumps(report)
        headers = {"checkout-account": account, "checkout-algorithm": "sha256"}
        headers["signature"] = paytrail.sign(MERCHANTS[account], headers, body)
        self._deliver("POST", url, 0, {"kind": "report"}, body=body, headers=headers)
        return {"requestId": str(uuid.uuid4())}

    # -- callbacks and redirects ---------------------------------------------------------

    def _notify(self, payment: dict[str, Any], *, callback: bool, redirect: bool = True) -> dict:
        """Call the callback URL of ``payment`` (in another thread); the redirect URL."""
        state = self.server.state
        params = _return_params(payment, dict(state.extra_params))
        key = "success" if payment["status"] in ("ok", "pending", "delayed") else "cancel"
        result = {"params": params}
        if callback and payment.get("callbackUrls"):
            url = _with_query(payment["callbackUrls"][key], params)
            record = {"kind": "callback", "transactionId": payment["transactionId"]}
            result["callback_thread"] = self._deliver(
                "GET", url, payment.get("callbackDelay", 0), record
            )
        if redirect:
            result["redirect_url"] = _with_query(payment["redirectUrls"][key], params)
        return result

    def _deliver(self, method, url, delay, record, *, body=None, headers=None):
        state = self.server.state
        state.callback_started()

        def run():
            done = {**record, "url": url, "status": 0, "error": ""}
            try:
                if delay:
                    time.sleep(delay)
                response = requests.request(
                    method, url, data=body, headers=headers, timeout=CALLBACK_TIMEOUT
                )
                done["status"] = response.status_code
            except requests.RequestException as exc:
                done["error"] = str(exc)
            finally:
                state.callback_done(done)

        thread = threading.Thread(target=run, name="paytrail-sandbox-callback", daemon=True)
        thread.start()
        return thread

    def _finish(self, payment: dict[str, Any], status: str, provider: str, callback: bool):
        state = self.server.state
        with state._lock:
            if payment["status"] in ("ok", "fail") and payment["status"] != status:
                raise ApiError(409, f"the payment is already {payment['status']}")
            payment["status"] = status
            payment["provider"] = provider or payment["provider"]
            if status == "ok" and not payment["paidAt"]:
                payment["paidAt"] = _now().isoformat(timespec="seconds")
                payment["commission"] = state.commission(payment["amount"])
        return self._notify(payment, callback=callback)

    # -- the hosted payment page ---------------------------------------------------------

    def _hosted(self, method: str, path: str, raw: bytes) -> None:
        match = re.fullmatch(rf"/pay/({_UUID_RE})(?:/([a-z]+))?", path)
        payment = self.server.state.payments.get(match.group(1)) if match else None
        if payment is None:
            self._send_html(404, "<h1>Payment not found</h1>")
            return
        choice = match.group(2)
        if method == "GET" and not choice:
            self._send_html(200, _page(payment))
            return
        if method != "POST" or choice not in {*dict(BANKS), "cancel"}:
            self._send_html(405, "<h1>Choose a bank on the payment page</h1>")
            return
        if payment["status"] != "new":
            # A second click or the back button: show the outcome again, change nothing.
            self._redirect(self._notify(payment, callback=False)["redirect_url"])
            return
        if choice == "cancel":
            result = self._finish(payment, "fail", "", callback=True)
        else:
            result = self._finish(payment, "ok", choice, callback=True)
        self._redirect(result["redirect_url"])

    # -- control API ---------------------------------------------------------------------

    def _control(self, method: str, path: str, raw: bytes) -> None:
        state = self.server.state
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            raise ApiError(400, "the body is not JSON") from None
        if method == "GET" and path in ("/state", "/received"):
            self._send_json(200, state.snapshot())
        elif method == "POST" and path == "/reset":
            state.reset()
            self._send_json(200, {"reset": True})
        elif method == "POST" and path == "/config":
            with state._lock:
                if "commission_percent" in data:
                    state.commission_percent = Decimal(str(data["commission_percent"]))
                if "commission_fixed_cents" in data:
                    state.commission_fixed_cents = int(data["commission_fixed_cents"])
                if "extra_params" in data:
                    state.extra_params = dict(data["extra_params"])
            self._send_json(200, {"commission_percent": str(state.commission_percent)})
        elif method == "POST" and (
            match := re.fullmatch(rf"/payments/({_UUID_RE})/complete", path)
        ):
            payment = state.payments.get(match.group(1))
            if payment is None:
                raise ApiError(404, "payment not found")
            status = data.get("status", "ok")
            if status not in paytrail.STATUSES:
                raise ApiError(400, f"status must be one of {', '.join(paytrail.STATUSES)}")
            result = self._finish(
                payment, status, data.get("provider", "nordea"), data.get("callback", True)
            )
            thread = result.pop("callback_thread", None)
            if thread is not None:
                thread.join(CALLBACK_TIMEOUT + (payment.get("callbackDelay") or 0) + 1)
                result["callback"] = state.callbacks[-1] if state.callbacks else None
            self._send_json(200, result)
        elif method == "POST" and path == "/settlements":
            self._send_json(201, self._settle(data))
        else:
            raise ApiError(404, f"no control operation {method} {path}")

    def _settle(self, data: dict) -> dict[str, Any]:
        state = self.server.state
        with state._lock:
            wanted = data.get("transactions")
            payments = [
                p
                for p in state.payments.values()
                if p["status"] == "ok"
                and not p["settlementReference"]
                and (wanted is None or p["transactionId"] in wanted)
            ]
            if not payments:
                raise ApiError(400, "no paid, unsettled payment to settle")
            accounts = {p["account"] for p in payments}
            if len(accounts) > 1:
                raise ApiError(400, "a settlement is for one merchant")
            number = len(state.settlements) + 1
            reference = KINDS["fi"].make(f"{8800 + number}")
            gross = sum(p["amount"] - p["refunded"] for p in payments)
            commission = sum(p["commission"] for p in payments)
            settlement = {
                "id": 1000 + number,
                "account": accounts.pop(),
                "createdAt": _now().isoformat(timespec="seconds"),
                "settledAt": data.get("settled_at") or _now().date().isoformat(),
                "settlementReference": reference,
                "transactions": [p["transactionId"] for p in payments],
                "gross": gross,
                "commission": commission,
                "net": gross - commission,
            }
            for payment in payments:
                payment["settlementReference"] = reference
            state.settlements.append(settlement)
            return settlement


def _public(payment: dict[str, Any]) -> dict[str, Any]:
    """A payment as ``GET /payments/{id}`` answers it."""
    keys = ("transactionId", "status", "amount", "currency", "stamp", "reference", "createdAt")
    data = {key: payment[key] for key in keys}
    if payment["status"] == "new":
        data["href"] = payment["href"]
    for key in ("provider", "paidAt", "settlementReference"):
        if payment[key]:
            data[key] = payment[key]
    return data


def _page(payment: dict[str, Any]) -> str:
    base = f"/pay/{payment['transactionId']}"
    amount = paytrail.from_cents(payment["amount"])
    if payment["status"] != "new":
        return (
            "<!DOCTYPE html><html><body><h1>Paytrail sandbox</h1>"
            f"<p>This payment is {html.escape(payment['status'])}.</p></body></html>"
        )
    banks = "".join(
        f'<form method="post" action="{base}/{code}" style="display:inline">'
        f'<button type="submit" class="bank" name="bank" value="{code}">'
        f"{html.escape(name)}</button></form>"
        for code, name in BANKS
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Paytrail sandbox</title></head>
<body>
<h1>Paytrail sandbox</h1>
<p>Payment <strong class="reference">{html.escape(payment["reference"])}</strong>:
<strong class="amount">{amount} EUR</strong>. Choose your bank to pay; nothing is paid for real.</p>
<div class="banks">{banks}</div>
<form method="post" action="{base}/cancel">
<button type="submit" class="cancel">Cancel payment and return to the shop</button></form>
</body></html>"""


class PaytrailSandbox:
    """A running sandbox: ``url``, ``state``; ``wait_callbacks()``, ``stop()``."""

    def __init__(self, server: _Server, thread: threading.Thread):
        self._server = server
        self._thread = thread
        self.url = server.url
        self.state = server.state

    def wait_callbacks(self, timeout: float = 15.0) -> bool:
        """Wait until every callback sent so far was answered (or failed)."""
        return self.state.wait_callbacks(timeout)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> PaytrailSandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_in_thread(host: str = "127.0.0.1", port: int = 0) -> PaytrailSandbox:
    """Start the sandbox in a daemon thread (``port=0``: any free port) and return its handle."""
    server = _Server((host, port), PaytrailState())
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="paytrail-sandbox",
        daemon=True,
    )
    thread.start()
    return PaytrailSandbox(server, thread)


def serve(host: str = "127.0.0.1", port: int = 8072) -> None:
    """Run the sandbox in the foreground until interrupted (``nordic-billing sandbox paytrail``)."""
    server = _Server((host, port), PaytrailState())
    url = server.url
    print(f"Paytrail sandbox on {url}", flush=True)
    print(f"  API URL  {url}   (use it as the provider's API URL)", flush=True)
    print(
        f"  merchant {paytrail.TEST_MERCHANT_ID}  secret {paytrail.TEST_SECRET}"
        "   (also 695861 / MONISAIPPUAKAUPPIAS)",
        flush=True,
    )
    print(f"  payment page {url}/pay/<transactionId>", flush=True)
    print(f"  what it received: {url}/_sandbox/received", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


__all__ = ["MERCHANTS", "PaytrailSandbox", "PaytrailState", "serve", "start_in_thread"]
