# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The generic SOAP service (``data/agency.wsdl``) over zeep.

The WSDL is read from this package, never fetched from the agency; only the endpoint address
comes from the configuration (``base_url`` + ``soap_path``). Timeouts go through zeep's
``Transport(timeout=..., operation_timeout=...)``; credentials are HTTP headers on its session.

Error mapping: HTTP 401/403 -> :class:`AgencyAuthError`; a ``Client`` fault ->
:class:`AgencyValidationError` (``AgencyNotFound`` / ``AgencyConflict`` by the fault detail's
code); a ``Server`` fault, 429, 5xx, timeouts and connection errors -> :class:`AgencyUnavailable`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import requests
import zeep
from zeep.exceptions import Fault, TransportError, ValidationError, XMLSyntaxError
from zeep.transports import Transport

from nordic_billing.retry import retry_after_seconds

from .base import (
    AgencyAdapter,
    AgencyAuthError,
    AgencyConflict,
    AgencyNotFound,
    AgencyUnavailable,
    AgencyValidationError,
    CaseRef,
    CaseUpdate,
    Claim,
    Debtor,
    SettlementLine,
)
from .rest import USER_AGENT, _connection_never_opened

NAMESPACE = "urn:nordic-billing:collection-agency:1"
BINDING = f"{{{NAMESPACE}}}AgencyBinding"


@cache
def wsdl_path() -> str:
    """File path of the WSDL shipped in the package."""
    return str(resources.files("nordic_billing").joinpath("data", "agency.wsdl"))


def _optional(value: Any) -> Any:
    return value if value not in ("", None) else None


class SoapAgencyAdapter(AgencyAdapter):
    """Generic SOAP agency. A concrete agency overrides ``soap_path`` / ``api_key_header`` (and,
    when its WSDL differs, ``wsdl`` plus the ``_*_payload`` / ``_parse_*`` hooks)."""

    code = "generic_soap"
    label = "Generic SOAP agency"
    protocol = "soap"

    #: Endpoint path under ``base_url``.
    soap_path = "/soap"

    def __init__(self, base_url: str, *, session: requests.Session | None = None, **kwargs):
        super().__init__(base_url, **kwargs)
        session = session or requests.Session()
        session.verify = self.verify
        if self.api_key:
            if self.auth_type == "bearer":
                session.headers["Authorization"] = f"Bearer {self.api_key}"
            else:
                session.headers[self.api_key_header] = self.api_key
        transport = Transport(
            session=session,
            timeout=self.timeout,
            operation_timeout=(self.connect_timeout, self.timeout),
        )
        session.headers["User-Agent"] = USER_AGENT
        # zeep's TransportError keeps the status, not the headers: note the last Retry-After.
        self._retry_after: str | None = None
        session.hooks["response"].append(self._note_retry_after)
        self.session = session
        self.client = zeep.Client(self.wsdl(), transport=transport)
        self.service = self.client.create_service(BINDING, self.base_url + self.soap_path)

    @classmethod
    def wsdl(cls) -> str:
        return wsdl_path()

    def close(self) -> None:
        self.session.close()

    def _note_retry_after(self, response: requests.Response, *args, **kwargs) -> None:
        self._retry_after = response.headers.get("Retry-After")

    # ------------------------------------------------------------------ transport

    def _call(self, operation: str, **kwargs) -> Any:
        """One attempt of one SOAP operation, errors mapped to :class:`AgencyError`."""
        try:
            return getattr(self.service, operation)(**kwargs)
        except Fault as exc:
            raise self._fault_error(operation, exc) from exc
        except ValidationError as exc:  # zeep refused to build the request from our values
            where = ".".join(str(part) for part in exc.path or ())
            raise AgencyValidationError(
                f"{where}: {exc.message}" if where else exc.message, code="validation", field=where
            ) from exc
        except TransportError as exc:
            status = exc.status_code or 0
            if status in (401, 403):
                raise AgencyAuthError(
                    f"the agency refused the credentials (HTTP {status})", status_code=status
                ) from exc
            if status in (408, 429) or status >= 500:
                raise AgencyUnavailable(
                    f"{operation}: HTTP {status}",
                    maybe_sent=status != 429,
                    status_code=status,
                    retry_after=retry_after_seconds(self._retry_after) or 0,
                ) from exc
            raise AgencyValidationError(
                f"{operation}: HTTP {status} {exc.message}", status_code=status
            ) from exc
        except XMLSyntaxError as exc:
            raise AgencyUnavailable(f"{operation}: the answer is not XML") from exc
        except requests.Timeout as exc:
            raise AgencyUnavailable(
                f"{operation}: no answer within the timeout",
                maybe_sent=not isinstance(exc, requests.ConnectTimeout),
            ) from exc
        except requests.RequestException as exc:
            raise AgencyUnavailable(
                f"{operation}: {type(exc).__name__}",
                maybe_sent=not _connection_never_opened(exc),
            ) from exc

    @staticmethod
    def _fault_error(operation: str, fault: Fault):
        code = (fault.code or "").rsplit(":", 1)[-1].rsplit("}", 1)[-1]
        detail: dict[str, str] = {}
        if fault.detail is not None:
            for node in fault.detail.iter():
                if node is not fault.detail and len(node) == 0 and isinstance(node.tag, str):
                    detail[node.tag.rsplit("}", 1)[-1]] = node.text or ""
        message = detail.get("Message") or fault.message or "SOAP fault"
        kwargs = {"code": detail.get("Code", ""), "field": detail.get("Field", "")}
        if code != "Client":
            return AgencyUnavailable(f"{operation}: {message}", status_code=500, **kwargs)
        if kwargs["code"] == "not_found":
            return AgencyNotFound(message, **kwargs)
        if kwargs["code"] == "conflict":
            return AgencyConflict(message, case_number=detail.get("CaseNumber", ""), **kwargs)
        return AgencyValidationError(message, **kwargs)

    # ------------------------------------------------------------------ mapping hooks

    def _debtor_payload(self, debtor: Debtor) -> dict[str, Any]:
        return {
            "Type": debtor.type,
            "Name": debtor.name,
            "IdNumber": _optional(debtor.id_number),
            "AddressLine": list(debtor.address_lines),
            "Zip": debtor.zip,
            "City": debtor.city,
            "Country": debtor.country,
            "Email": _optional(debtor.email),
            "Phone": _optional(debtor.phone),
        }

    def _claim_payload(self, claim: Claim) -> dict[str, Any]:
        return {
            "ExternalKey": claim.external_key,
            "InvoiceNumber": claim.invoice_number,
            "InvoiceDate": claim.invoice_date,
            "DueDate": claim.due_date,
            "OriginalAmount": claim.original_amount,
            "OutstandingAmount": claim.outstanding_amount,
            "Currency": claim.currency,
            "Reference": _optional(claim.reference),
            "ReminderFees": claim.reminder_fees,
            "Interest": claim.interest,
            "LastReminderDate": claim.last_reminder_date,
        }

    def _parse_case(self, case: Any) -> CaseRef:
        return CaseRef(case.CaseNumber, case.Status, case.ExternalKey or "")

    def _parse_update(self, case: Any) -> CaseUpdate:
        return CaseUpdate(
            case_number=case.CaseNumber,
            status=case.Status,
            collected_principal=case.CollectedPrincipal,
            collected_interest=case.CollectedInterest,
            collected_fees=case.CollectedFees,
            collected_costs=case.CollectedCosts,
            updated_at=case.UpdatedAt,
            external_key=case.ExternalKey or "",
            message=case.Message or "",
        )

    def _parse_settlement(self, line: Any) -> SettlementLine:
        return SettlementLine(
            line_id=line.LineId,
            remittance_id=line.RemittanceId,
            case_number=line.CaseNumber,
            kind=line.Kind,
            amount=line.Amount,
            currency=line.Currency,
            date=line.Date,
            created_at=line.CreatedAt,
            external_key=line.ExternalKey or "",
        )

    # ------------------------------------------------------------------ operations

    def _send_ping(self) -> None:
        self._call("Ping")

    def _fetch_case_by_key(self, external_key: str) -> CaseRef | None:
        case = self._call("FindCase", ExternalKey=external_key)
        return self._parse_case(case) if case is not None else None

    def _send_create_case(self, debtor: Debtor, claim: Claim) -> CaseRef:
        case = self._call(
            "CreateCase", Debtor=self._debtor_payload(debtor), Claim=self._claim_payload(claim)
        )
        return self._parse_case(case)

    def _send_payment(
        self, case_number: str, amount: Decimal, date: dt.date, payment_id: str
    ) -> CaseRef:
        case = self._call(
            "AddPayment", CaseNumber=case_number, PaymentId=payment_id, Amount=amount, Date=date
        )
        return self._parse_case(case)

    def _send_cancel(self, case_number: str, reason: str) -> CaseRef:
        return self._parse_case(self._call("CancelCase", CaseNumber=case_number, Reason=reason))

    def _page(self, operation: str, item: str, since, cursor) -> tuple[list[Any], str | None]:
        result = self._call(operation, Since=since, Cursor=cursor, Limit=self.page_limit)
        return list(getattr(result, item, None) or []), getattr(result, "NextCursor", None)

    def _fetch_updates(self, since, cursor):
        items, next_cursor = self._page("ListUpdates", "Case", since, cursor)
        return [self._parse_update(item) for item in items], next_cursor

    def _fetch_settlements(self, since, cursor):
        items, next_cursor = self._page("ListSettlements", "Line", since, cursor)
        return [self._parse_settlement(item) for item in items], next_cursor
