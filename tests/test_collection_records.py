# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Case records and their JSON form, the external key, the adapter registry."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from nordic_billing.collection import (
    ADAPTERS,
    AgencyAdapter,
    CaseRef,
    CaseUpdate,
    Claim,
    Debtor,
    ExampleAgencyRestAdapter,
    RestAgencyAdapter,
    SettlementLine,
    SoapAgencyAdapter,
    adapter_choices,
    get_adapter_class,
    make_external_key,
)

UTC = dt.timezone.utc


def make_claim(**changes) -> Claim:
    data = {
        "external_key": "1/INV-1",
        "invoice_number": "INV-1",
        "invoice_date": dt.date(2026, 1, 2),
        "due_date": dt.date(2026, 1, 16),
        "original_amount": "120",
        "outstanding_amount": Decimal("99.5"),
        "currency": "EUR",
    }
    data.update(changes)
    return Claim(**data)


def test_claim_json_has_amounts_as_strings_and_iso_dates():
    claim = make_claim(reminder_fees=5, interest=12.3, last_reminder_date=dt.date(2026, 2, 1))

    data = claim.to_json()

    assert data == {
        "external_key": "1/INV-1",
        "invoice_number": "INV-1",
        "invoice_date": "2026-01-02",
        "due_date": "2026-01-16",
        "original_amount": "120.00",
        "outstanding_amount": "99.50",
        "currency": "EUR",
        "reference": "",
        "reminder_fees": "5.00",
        "interest": "12.30",
        "last_reminder_date": "2026-02-01",
    }
    assert Claim.from_json(json.loads(json.dumps(data))) == claim
    assert claim.interest == Decimal("12.3")  # a float is read by its repr


def test_debtor_round_trip():
    debtor = Debtor("company", "Esimerkki Oy", "1234567-8", ["PL 10", "c/o Talo"], "00101", "Espoo")

    assert debtor.address_lines == ("PL 10", "c/o Talo")
    assert debtor.to_json()["address_lines"] == ["PL 10", "c/o Talo"]
    assert Debtor.from_json(debtor.to_json()) == debtor
    with pytest.raises(ValueError, match="debtor type"):
        Debtor("consumer", "X")


def test_update_and_settlement_round_trip_in_utc():
    helsinki = dt.timezone(dt.timedelta(hours=2))
    update = CaseUpdate(
        "C1", "paid", "10", "0.5", Decimal("5"), 0, dt.datetime(2026, 3, 1, 10, 0, tzinfo=helsinki)
    )
    line = SettlementLine(
        "L1", "R1", "C1", "costs", "-3.5", "EUR", dt.date(2026, 3, 2), dt.datetime(2026, 3, 2, 8)
    )

    assert update.updated_at == dt.datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    assert update.to_json()["updated_at"] == "2026-03-01T08:00:00Z"
    assert update.to_json()["collected_interest"] == "0.50"
    assert CaseUpdate.from_json(update.to_json()) == update
    assert line.created_at.tzinfo is UTC  # naive means UTC
    assert line.to_json()["amount"] == "-3.50"
    assert SettlementLine.from_json(line.to_json()) == line
    assert CaseRef.from_json({"case_number": 17, "status": "open"}) == CaseRef("17", "open")


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (lambda: make_claim(currency="eur"), "ISO 4217"),
        (lambda: make_claim(external_key="1/INV 1"), "external key"),
        (lambda: make_claim(original_amount="abc"), "not a number"),
        (lambda: make_claim(original_amount="NaN"), "finite"),
        (lambda: CaseRef("C1", "rejected"), "case status"),
        (
            lambda: SettlementLine(
                "L", "R", "C", "bonus", 1, "EUR", dt.date.today(), dt.datetime.now()
            ),
            "kind",
        ),
    ],
)
def test_records_refuse_bad_values(record, message):
    with pytest.raises(ValueError, match=message):
        record()


def test_amounts_refuse_booleans_and_none():
    with pytest.raises(TypeError):
        make_claim(original_amount=True)
    with pytest.raises(TypeError):
        make_claim(original_amount=None)


def test_external_key():
    assert make_external_key(3, "INV/2026/0042") == "3/INV/2026/0042"
    assert make_external_key(3, "INV 42", prefix="db1") == "db1:3/INV-42"
    with pytest.raises(ValueError, match="at most 64"):
        make_external_key(3, "x" * 70)
    with pytest.raises(ValueError, match="at most 64"):
        make_external_key(3, "LASKU-Ä")


def test_registry():
    assert get_adapter_class("generic_rest") is RestAgencyAdapter
    assert get_adapter_class("generic_soap") is SoapAgencyAdapter
    assert get_adapter_class("example_rest") is ExampleAgencyRestAdapter
    assert ("example_rest", "Example agency (REST)") in adapter_choices()
    with pytest.raises(KeyError, match="known: .*generic_rest"):
        get_adapter_class("nope")


def test_a_new_agency_registers_itself_and_codes_are_unique():
    class TinyAgency(RestAgencyAdapter):
        code = "tiny_test_agency"
        label = "Tiny"
        base_path = "/v2"

    try:
        assert get_adapter_class("tiny_test_agency") is TinyAgency
        with pytest.raises(ValueError, match="taken by"):

            class Impostor(RestAgencyAdapter):
                code = "tiny_test_agency"
    finally:
        ADAPTERS.pop("tiny_test_agency", None)


def test_abstract_interface_and_settings_are_checked():
    with pytest.raises(TypeError):
        AgencyAdapter("http://x")  # type: ignore[abstract]
    with pytest.raises(ValueError, match="auth type"):
        RestAgencyAdapter("http://x", auth_type="basic")
    with pytest.raises(ValueError, match="timeouts"):
        RestAgencyAdapter("http://x", timeout=0)
    adapter = RestAgencyAdapter("http://agency.example/", api_key="k", auth_type="bearer")
    assert adapter.base_url == "http://agency.example"
    assert adapter.session.headers["Authorization"] == "Bearer k"
    assert "X-API-Key" not in adapter.session.headers
