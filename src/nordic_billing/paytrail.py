# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Paytrail (Finnish online payments): signing, verification and a small API client.

Paytrail signs with an HMAC (SHA-256 or SHA-512) keyed by the merchant secret, over the lines
``key:value`` of every ``checkout-*`` header (or query parameter), keys lower-cased and sorted,
joined with ``\\n``, then a ``\\n`` and the exact body (empty when there is none). Requests,
responses, redirects and callbacks are all signed that way.

* :func:`sign` computes a signature; :func:`verify` checks one with :func:`hmac.compare_digest`.
  Both take every ``checkout-*`` entry they are given: Paytrail adds new parameters without
  notice, so none is hard-coded.
* :func:`request_headers` builds the signed headers of a request; :func:`verify_response`
  checks the signature of an answer.
* :func:`parse_return` verifies and reads the query parameters of a redirect or callback.
* :class:`PaytrailClient` sends signed requests (with a timeout) and verifies every answer.

The Odoo provider sends its requests through Odoo's own payment plumbing and uses the same
helpers for signing and verifying.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import requests

from .money import cents_of
from .money import from_cents as money_from_cents

_logger = logging.getLogger(__name__)

BASE_URL = "https://services.paytrail.com"
#: Paytrail's public test merchant (test payments are deleted daily).
TEST_MERCHANT_ID = "375917"
TEST_SECRET = "SAIPPUAKAUPPIAS"
ALGORITHMS = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}
STATUSES = ("ok", "pending", "delayed", "fail")
DEFAULT_TIMEOUT = 10.0
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
PREFIX = "checkout-"


class PaytrailError(Exception):
    """Paytrail refused a request or answered something that cannot be used."""

    def __init__(self, message: str, *, status: int = 0, request_id: str = ""):
        super().__init__(message)
        self.status = status
        self.request_id = request_id


class SignatureError(PaytrailError):
    """A signature is missing or does not match: the data must not be trusted."""


def checkout_items(values: Mapping[str, Any]) -> dict[str, str]:
    """The ``checkout-*`` entries of ``values`` (headers or query parameters), keys lower-cased."""
    return {
        str(key).lower(): str(value)
        for key, value in values.items()
        if str(key).lower().startswith(PREFIX)
    }


def sign(
    secret: str, values: Mapping[str, Any], body: str | bytes = "", algorithm: str = "sha256"
) -> str:
    """The hex signature of the ``checkout-*`` entries of ``values`` and ``body``."""
    digest = ALGORITHMS.get(algorithm)
    if digest is None:
        raise SignatureError(f"unsupported signature algorithm {algorithm!r}")
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    items = checkout_items(values)
    message = "\n".join([*(f"{key}:{items[key]}" for key in sorted(items)), body or ""])
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), digest).hexdigest()


def verify(
    secret: str,
    values: Mapping[str, Any],
    signature: str | None,
    body: str | bytes = "",
) -> bool:
    """Whether ``signature`` signs ``values`` and ``body`` with ``secret``, with the algorithm
    ``values`` names in ``checkout-algorithm``."""
    algorithm = checkout_items(values).get("checkout-algorithm", "")
    if not signature or algorithm not in ALGORITHMS:
        return False
    expected = sign(secret, values, body, algorithm)
    return hmac.compare_digest(expected, str(signature).lower())


def encode_body(payload: Any) -> str:
    """The JSON body of a request, as sent and as signed."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def request_headers(
    merchant_id: str,
    secret: str,
    method: str,
    body: str = "",
    *,
    transaction_id: str | None = None,
    algorithm: str = "sha256",
    platform_name: str | None = None,
    nonce: str | None = None,
    timestamp: str | None = None,
) -> dict[str, str]:
    """The signed headers of a request with ``body`` (the exact text sent)."""
    headers = {
        "checkout-account": str(merchant_id),
        "checkout-algorithm": algorithm,
        "checkout-method": method.upper(),
        "checkout-nonce": nonce or uuid.uuid4().hex,
        "checkout-timestamp": timestamp
        or dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
    }
    if transaction_id:
        headers["checkout-transaction-id"] = transaction_id
    headers["signature"] = sign(secret, headers, body, algorithm)
    headers["content-type"] = JSON_CONTENT_TYPE
    if platform_name:
        headers["platform-name"] = platform_name
    return headers


def verify_response(secret: str, headers: Mapping[str, str], body: str | bytes) -> None:
    """Raise :class:`SignatureError` unless ``headers`` carry a valid signature of ``body``."""
    lowered = {str(key).lower(): value for key, value in headers.items()}
    if not verify(secret, lowered, lowered.get("signature"), body):
        raise SignatureError(
            "the answer of Paytrail is not signed with the merchant secret",
            request_id=lowered.get("request-id", ""),
        )


def to_cents(amount: Decimal | str | float | int) -> int:
    """An amount in euros (an int too) as integer cents: :func:`nordic_billing.money.cents_of`."""
    return cents_of(amount)


def from_cents(cents: int | str) -> Decimal:
    """Integer cents as euros: :func:`nordic_billing.money.from_cents`."""
    return money_from_cents(int(cents))


@dataclass(frozen=True)
class ReturnData:
    """A verified redirect or callback: what Paytrail says happened to one payment."""

    account: str
    algorithm: str
    amount_cents: int
    stamp: str
    reference: str
    transaction_id: str
    status: str
    provider: str
    settlement_reference: str = ""
    #: every ``checkout-*`` parameter received, known or not
    params: dict[str, str] = field(default_factory=dict)

    @property
    def amount(self) -> Decimal:
        return from_cents(self.amount_cents)


def parse_return(secret: str, params: Mapping[str, Any], merchant_id: str = "") -> ReturnData:
    """Verify the query parameters of a redirect or callback and read them.

    Raises :class:`SignatureError` when the signature does not match (or the account is not
    ``merchant_id`` when given) and :class:`PaytrailError` when a required parameter is missing
    or malformed. Unknown ``checkout-*`` parameters are signed over and kept in ``params``.
    """
    items = checkout_items(params)
    signature = params.get("signature")
    if not verify(secret, items, signature):
        raise SignatureError("the redirect or callback is not signed with the merchant secret")
    if merchant_id and items.get("checkout-account") != str(merchant_id):
        raise SignatureError(
            f"the redirect or callback is for merchant {items.get('checkout-account')!r}"
        )
    missing = [
        name
        for name in ("amount", "stamp", "transaction-id", "status")
        if not items.get(PREFIX + name)
    ]
    if missing:
        raise PaytrailError("missing parameters: " + ", ".join(PREFIX + m for m in missing))
    amount = items["checkout-amount"]
    if not amount.isdigit():
        raise PaytrailError(f"checkout-amount is not an amount in cents: {amount!r}")
    return ReturnData(
        account=items.get("checkout-account", ""),
        algorithm=items["checkout-algorithm"],
        amount_cents=int(amount),
        stamp=items["checkout-stamp"],
        reference=items.get("checkout-reference", ""),
        transaction_id=items["checkout-transaction-id"],
        status=items["checkout-status"],
        provider=items.get("checkout-provider", ""),
        settlement_reference=items.get("checkout-settlement-reference", ""),
        params=items,
    )


def error_message(response: requests.Response) -> str:
    """The message of a Paytrail error answer (JSON ``{"status": "error", "message": ...}``)."""
    try:
        data = response.json()
    except ValueError:
        return response.text[:500]
    if isinstance(data, dict):
        message = data.get("message") or data.get("error") or ""
        details = data.get("meta")
        if isinstance(details, list) and details:
            message = f"{message} ({'; '.join(str(d) for d in details)})"
        return str(message) or response.text[:500]
    return response.text[:500]


class PaytrailClient:
    """Signed requests to the Paytrail API; every answer is verified before it is read."""

    def __init__(
        self,
        merchant_id: str = TEST_MERCHANT_ID,
        secret: str = TEST_SECRET,
        *,
        base_url: str = BASE_URL,
        timeout: float = DEFAULT_TIMEOUT,
        algorithm: str = "sha256",
        platform_name: str | None = "nordic-billing",
        session: requests.Session | None = None,
    ):
        self.merchant_id = str(merchant_id)
        self.secret = secret
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.algorithm = algorithm
        self.platform_name = platform_name
        self.session = session or requests.Session()

    def request(
        self,
        method: str,
        path: str,
        payload: Any = None,
        *,
        params: Mapping[str, Any] | None = None,
        transaction_id: str | None = None,
    ) -> Any:
        """Send a signed request; the verified JSON answer (``None`` for an empty one)."""
        body = "" if payload is None else encode_body(payload)
        headers = request_headers(
            self.merchant_id,
            self.secret,
            method,
            body,
            transaction_id=transaction_id,
            algorithm=self.algorithm,
            platform_name=self.platform_name,
        )
        response = self.session.request(
            method,
            self.base_url + path,
            params=params,
            data=body.encode("utf-8") if body else None,
            headers=headers,
            timeout=self.timeout,
        )
        request_id = response.headers.get("request-id", "")
        _logger.info("Paytrail %s %s: HTTP %s, request-id %s", method, path, response.status_code,
                     request_id)  # fmt: skip
        if response.status_code == 401:
            raise SignatureError(
                f"Paytrail refused the signature: {error_message(response)}",
                status=401,
                request_id=request_id,
            )
        verify_response(self.secret, response.headers, response.content)
        if response.status_code >= 400:
            raise PaytrailError(
                f"Paytrail answered HTTP {response.status_code}: {error_message(response)}",
                status=response.status_code,
                request_id=request_id,
            )
        return response.json() if response.content else None

    def create_payment(self, payment: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("POST", "/payments", dict(payment))

    def get_payment(self, transaction_id: str) -> dict[str, Any]:
        return self.request("GET", f"/payments/{transaction_id}", transaction_id=transaction_id)

    def refund(self, transaction_id: str, refund: Mapping[str, Any]) -> dict[str, Any]:
        return self.request(
            "POST",
            f"/payments/{transaction_id}/refund",
            dict(refund),
            transaction_id=transaction_id,
        )

    def settlements(
        self,
        *,
        bank_reference: str | None = None,
        start_date: dt.date | None = None,
        end_date: dt.date | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        params = {
            "bankReference": bank_reference,
            "startDate": start_date.isoformat() if start_date else None,
            "endDate": end_date.isoformat() if end_date else None,
            "limit": limit,
        }
        return self.request(
            "GET", "/settlements", params={k: v for k, v in params.items() if v is not None}
        )


__all__ = [
    "ALGORITHMS",
    "BASE_URL",
    "TEST_MERCHANT_ID",
    "TEST_SECRET",
    "PaytrailClient",
    "PaytrailError",
    "ReturnData",
    "SignatureError",
    "checkout_items",
    "encode_body",
    "error_message",
    "from_cents",
    "parse_return",
    "request_headers",
    "sign",
    "to_cents",
    "verify",
    "verify_response",
]
