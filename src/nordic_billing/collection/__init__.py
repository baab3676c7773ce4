# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Debt-collection agencies: one adapter interface, a generic REST and a generic SOAP protocol.

The Odoo addon picks an adapter class by the backend's code and calls it::

    adapter = get_adapter_class(backend.adapter_code)(
        backend.url, api_key=backend.api_key, auth_type="api_key", timeout=30
    )
    case = adapter.create_case(debtor, claim)       # safe to repeat: looked up by claim key
    adapter.add_payment(case.case_number, Decimal("20.00"), date, payment_id="PAY-81")
    updates = adapter.list_updates(since=last_seen)

Errors are :class:`AgencyError` subclasses: :class:`AgencyValidationError` (the agency's own
message; fix the data), :class:`AgencyAuthError` (fix the credentials),
:class:`AgencyUnavailable` (try later) and :class:`AgencyUnknownOutcome` (try later; the key
makes the retry safe).

Adding an agency
----------------
An agency that speaks the generic protocol (``data/agency-openapi.yaml`` or ``data/agency.wsdl``)
with its own path or key header is one small class: subclass :class:`RestAgencyAdapter` or
:class:`SoapAgencyAdapter`, give it a unique ``code`` and a ``label`` and override the class
attributes (``base_path`` / ``soap_path``, ``api_key_header``); see
:class:`ExampleAgencyRestAdapter`. An agency whose field names differ also overrides the mapping
hooks (``_debtor_payload``, ``_claim_payload``, ``_parse_case``, ``_parse_update``,
``_parse_settlement``); one with another protocol altogether subclasses :class:`AgencyAdapter`
and implements its ``_send_*`` / ``_fetch_*`` methods (one attempt each; retries, backoff and the
lookup before a repeated create are inherited). Defining the class registers it under its
``code`` (import its module once, e.g. from the addon's ``__init__``); the addon's selection
comes from :func:`adapter_choices`.
"""

from __future__ import annotations

from .base import (
    ADAPTERS,
    CASE_STATUSES,
    DEBTOR_TYPES,
    SETTLEMENT_KINDS,
    AgencyAdapter,
    AgencyAuthError,
    AgencyConflict,
    AgencyError,
    AgencyNotFound,
    AgencyUnavailable,
    AgencyUnknownOutcome,
    AgencyValidationError,
    CaseRef,
    CaseUpdate,
    Claim,
    Debtor,
    SettlementLine,
    make_external_key,
)
from .rest import ExampleAgencyRestAdapter, RestAgencyAdapter
from .soap import SoapAgencyAdapter


def get_adapter_class(code: str) -> type[AgencyAdapter]:
    """The adapter class registered under ``code``; KeyError names the known codes."""
    try:
        return ADAPTERS[code]
    except KeyError:
        known = ", ".join(sorted(ADAPTERS)) or "none"
        raise KeyError(f"no collection agency adapter {code!r} (known: {known})") from None


def adapter_choices() -> list[tuple[str, str]]:
    """``(code, label)`` of every registered adapter, sorted by label (for a selection field)."""
    return sorted(((code, cls.label or code) for code, cls in ADAPTERS.items()), key=lambda x: x[1])


__all__ = [
    "ADAPTERS",
    "CASE_STATUSES",
    "DEBTOR_TYPES",
    "SETTLEMENT_KINDS",
    "AgencyAdapter",
    "AgencyAuthError",
    "AgencyConflict",
    "AgencyError",
    "AgencyNotFound",
    "AgencyUnavailable",
    "AgencyUnknownOutcome",
    "AgencyValidationError",
    "CaseRef",
    "CaseUpdate",
    "Claim",
    "Debtor",
    "ExampleAgencyRestAdapter",
    "RestAgencyAdapter",
    "SettlementLine",
    "SoapAgencyAdapter",
    "adapter_choices",
    "get_adapter_class",
    "make_external_key",
]
