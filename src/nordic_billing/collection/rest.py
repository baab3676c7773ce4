# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The generic REST protocol (``data/agency-openapi.yaml``) over ``requests``.

Every request has a (connect, read) timeout. Errors are mapped once, in :meth:`_request`:

=====================  ==================================================================
answer                 raised
=====================  ==================================================================
401, 403               :class:`AgencyAuthError`
404                    :class:`AgencyNotFound`
409                    :class:`AgencyConflict` (``case_number`` of an existing case)
other 4xx              :class:`AgencyValidationError` with the agency's message and field
408, 429, 5xx          :class:`AgencyUnavailable` (retried by the base class when safe)
timeout, no connection :class:`AgencyUnavailable`
=====================  ==================================================================
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import requests
from urllib3.exceptions import NewConnectionError

from nordic_billing.retry import retry_after_seconds

from .base import (
    AgencyAdapter,
    AgencyAuthError,
    AgencyConflict,
    AgencyError,
    AgencyNotFound,
    AgencyUnavailable,
    AgencyValidationError,
    CaseRef,
    CaseUpdate,
    Claim,
    Debtor,
    SettlementLine,
    amount_str,
    datetime_str,
)

USER_AGENT = "nordic-billing-collection/1"


def _drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    """Optional properties are left out, never sent as null or empty."""
    return {k: v for k, v in data.items() if v not in (None, "", [], ())}


def _connection_never_opened(exc: requests.RequestException) -> bool:
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


class RestAgencyAdapter(AgencyAdapter):
    """Generic REST agency. A concrete agency overrides the class attributes below and, when
    its field names differ, the ``_*_payload`` / ``_parse_*`` hooks."""

    code = "generic_rest"
    label = "Generic REST agency"
    protocol = "rest"

    #: Path of the API under ``base_url``.
    base_path = "/rest/v1"

    def __init__(self, base_url: str, *, session: requests.Session | None = None, **kwargs):
        super().__init__(base_url, **kwargs)
        self.session = session or requests.Session()
        self.session.headers.update(self._auth_headers())
        self.session.headers.setdefault("Accept", "application/json")
        self.session.headers["User-Agent"] = USER_AGENT

    def _auth_headers(self) -> dict[str, str]:
        if not self.api_key:
            return {}
        if self.auth_type == "bearer":
            return {"Authorization": f"Bearer {self.api_key}"}
        return {self.api_key_header: self.api_key}

    def close(self) -> None:
        self.session.close()

    # ------------------------------------------------------------------ transport

    def _url(self, path: str) -> str:
        return f"{self.base_url}{self.base_path}{path}"

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> tuple[int, Any]:
        """One attempt; returns (status, parsed JSON body) for 2xx, raises otherwise."""
        try:
            response = self.session.request(
                method,
                self._url(path),
                params=params,
                json=json,
                timeout=(self.connect_timeout, self.timeout),
                verify=self.verify,
            )
        except requests.Timeout as exc:
            raise AgencyUnavailable(
                f"{method} {path}: no answer within the timeout",
                maybe_sent=not isinstance(exc, requests.ConnectTimeout),
            ) from exc
        except requests.RequestException as exc:
            raise AgencyUnavailable(
                f"{method} {path}: {type(exc).__name__}",
                maybe_sent=not _connection_never_opened(exc),
            ) from exc
        status = response.status_code
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = None
        if 200 <= status < 300:
            return status, body
        raise self._error(method, path, response, body)

    def _error(self, method: str, path: str, response: requests.Response, body) -> AgencyError:
        status = response.status_code
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        agency_message = str(error.get("message") or response.reason or f"HTTP {status}")
        kwargs = {
            "status_code": status,
            "code": str(error.get("code") or ""),
            "field": str(error.get("field") or ""),
        }
        message = f"{method} {path}: {status} {agency_message}"
        if status in (401, 403):
            return AgencyAuthError(
                f"the agency refused the credentials: {agency_message}", **kwargs
            )
        if status in (408, 429) or status >= 500:
            return AgencyUnavailable(
                message,
                maybe_sent=status != 429,
                retry_after=retry_after_seconds(response.headers.get("Retry-After")) or 0,
                **kwargs,
            )
        if status == 404:
            return AgencyNotFound(agency_message, **kwargs)
        if status == 409:
            return AgencyConflict(
                agency_message, case_number=str(error.get("case_number") or ""), **kwargs
            )
        return AgencyValidationError(agency_message, **kwargs)

    # ------------------------------------------------------------------ mapping hooks

    def _debtor_payload(self, debtor: Debtor) -> dict[str, Any]:
        return _drop_empty(debtor.to_json())

    def _claim_payload(self, claim: Claim) -> dict[str, Any]:
        return _drop_empty(claim.to_json())

    def _parse_case(self, data: dict[str, Any]) -> CaseRef:
        return CaseRef.from_json(data)

    def _parse_update(self, data: dict[str, Any]) -> CaseUpdate:
        return CaseUpdate.from_json(data)

    def _parse_settlement(self, data: dict[str, Any]) -> SettlementLine:
        return SettlementLine.from_json(data)

    # ------------------------------------------------------------------ operations

    def _send_ping(self) -> None:
        self._request("GET", "/ping")

    def _fetch_case_by_key(self, external_key: str) -> CaseRef | None:
        _status, body = self._request("GET", "/cases", params={"external_key": external_key})
        items = body.get("items") or []
        matches = [self._parse_case(item) for item in items]
        matches = [case for case in matches if case.external_key in ("", external_key)]
        return matches[0] if matches else None

    def _send_create_case(self, debtor: Debtor, claim: Claim) -> CaseRef:
        payload = {"debtor": self._debtor_payload(debtor), "claim": self._claim_payload(claim)}
        _status, body = self._request("POST", "/cases", json=payload)
        return self._parse_case(body)

    def _case_path(self, case_number: str, action: str = "") -> str:
        return f"/cases/{quote(case_number, safe='')}{action}"

    def _send_payment(
        self, case_number: str, amount: Decimal, date: dt.date, payment_id: str
    ) -> CaseRef:
        payload = {"payment_id": payment_id, "amount": amount_str(amount), "date": date.isoformat()}
        _status, body = self._request(
            "POST", self._case_path(case_number, "/payments"), json=payload
        )
        return self._parse_case(body)

    def _send_cancel(self, case_number: str, reason: str) -> CaseRef:
        path = self._case_path(case_number, "/cancel")
        _status, body = self._request("POST", path, json={"reason": reason})
        return self._parse_case(body)

    def _page_params(self, since: dt.datetime | None, cursor: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": self.page_limit}
        if since is not None:
            params["since"] = datetime_str(since)
        if cursor:
            params["cursor"] = cursor
        return params

    def _fetch_updates(self, since, cursor):
        _status, body = self._request("GET", "/updates", params=self._page_params(since, cursor))
        items = [self._parse_update(item) for item in body.get("items") or []]
        return items, body.get("next_cursor")

    def _fetch_settlements(self, since, cursor):
        params = self._page_params(since, cursor)
        _status, body = self._request("GET", "/settlements", params=params)
        items = [self._parse_settlement(item) for item in body.get("items") or []]
        return items, body.get("next_cursor")


class ExampleAgencyRestAdapter(RestAgencyAdapter):
    """How a concrete agency looks: it speaks the generic protocol under its own path and wants
    its key in its own header. Nothing else changes."""

    code = "example_rest"
    label = "Example agency (REST)"
    base_path = "/api/collection/v1"
    api_key_header = "X-Example-Key"
