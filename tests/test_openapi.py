# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nordic_billing.openapi import (
    Contract,
    UnsupportedContract,
    parse_date,
    parse_date_time,
)

SHARED_CONTRACT = (
    Path(__file__).resolve().parents[2] / "shared" / "contracts" / "procountor-openapi-subset.json"
)


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract.packaged()


def receipt(**changes):
    body = {
        "type": "JOURNAL",
        "name": "Membership fees 2026-W47 CLUB",
        "receiptDate": "2026-11-22",
        "vatType": "SALES",
        "vatStatus": 12,
        "transactions": [
            {
                "transactionType": "ENTRY",
                "account": "1710",
                "accountingValue": Decimal("10.00"),
                "vatPercent": 0,
            }
        ],
    }
    body.update(changes)
    return body


def codes(violations):
    return {(v.field, v.code) for v in violations}


# -- the document ------------------------------------------------------------------------------


@pytest.mark.skipif(not SHARED_CONTRACT.exists(), reason="shared contract folder not present")
def test_packaged_contract_is_the_shared_contract():
    packaged = Contract.packaged().document
    assert packaged == json.loads(SHARED_CONTRACT.read_text(encoding="utf-8"))


def test_every_operation_is_read(contract):
    pairs = {(op.method, op.path) for op in contract.operations}
    assert ("POST", "/oauth/token") in pairs
    assert ("PUT", "/ledgerreceipts/{receiptId}/approve") in pairs
    assert len(pairs) == 15
    token = contract.find_operation("POST", "/oauth/token")[0]
    assert not token.secured
    assert contract.find_operation("GET", "/coa")[0].secured


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "additionalProperties": False},
        {"oneOf": [{"type": "string"}]},
        {"type": "string", "nullable": True},
        {"type": "string", "pattern": "^a$"},
        {"type": "string", "format": "uuid"},
        {"type": "null"},
        {"$ref": "#/components/schemas/Missing"},
    ],
)
def test_unsupported_constructs_fail_loudly(schema):
    with pytest.raises(UnsupportedContract):
        Contract({"paths": {}, "components": {"schemas": {"X": schema}}})


def test_conflicting_all_of_branches_are_refused():
    doc = {
        "paths": {},
        "components": {
            "schemas": {
                "A": {"type": "string"},
                "B": {"type": "integer"},
                "C": {
                    "allOf": [
                        {"$ref": "#/components/schemas/A"},
                        {"$ref": "#/components/schemas/B"},
                    ]
                },
            }
        },
    }
    with pytest.raises(UnsupportedContract):
        Contract(doc).validate("x", "C")


# -- schema keywords ---------------------------------------------------------------------------


def test_valid_receipt_has_no_violation(contract):
    assert contract.validate(receipt(), "LedgerReceipt") == []


def test_required_enum_length_and_format(contract):
    body = receipt(type="MEMO", name="x" * 81, receiptDate="2026-02-30")
    del body["vatStatus"]
    assert codes(contract.validate(body, "LedgerReceipt")) == {
        ("type", "INVALID_ENUM_VALUE"),
        ("name", "TOO_LONG"),
        ("receiptDate", "INVALID_FORMAT"),
        ("vatStatus", "REQUIRED"),
    }


def test_name_of_exactly_80_characters_is_fine(contract):
    assert contract.validate(receipt(name="x" * 80), "LedgerReceipt") == []


def test_nested_paths_name_the_field(contract):
    body = receipt()
    body["transactions"][0]["dimensionItemValues"] = [{"dimensionId": 1, "itemId": "2"}]
    body["transactions"][0]["acountingValue"] = 1
    assert codes(contract.validate(body, "LedgerReceipt")) == {
        ("transactions[0].dimensionItemValues[0].itemId", "INVALID_TYPE"),
        ("transactions[0].dimensionItemValues[0].value", "REQUIRED"),
        ("transactions[0].acountingValue", "UNKNOWN_PROPERTY"),
    }


def test_unknown_properties_pass_when_not_strict(contract):
    assert contract.validate(receipt(extra=1), "LedgerReceipt", strict=False) == []


def test_min_items(contract):
    assert codes(contract.validate(receipt(transactions=[]), "LedgerReceipt")) == {
        ("transactions", "TOO_FEW_ITEMS")
    }


@pytest.mark.parametrize(
    ("value", "kind", "ok"),
    [
        (True, {"type": "integer"}, False),
        (True, {"type": "number"}, False),
        (1, {"type": "number"}, True),
        (Decimal("1.5"), {"type": "number"}, True),
        (1.5, {"type": "integer"}, False),
        ("1", {"type": "integer"}, False),
        (2**31, {"type": "integer", "format": "int32"}, False),
        (2**31 - 1, {"type": "integer", "format": "int32"}, True),
        (2**40, {"type": "integer", "format": "int64"}, True),
        ("a@b.fi", {"type": "string", "format": "email"}, True),
        ("a@b", {"type": "string", "format": "email"}, False),
        ([1, "2"], {"type": "array", "items": {"type": "integer"}}, False),
        (None, {"type": "string"}, False),
    ],
)
def test_types_and_formats(contract, value, kind, ok):
    assert (contract.validate(value, kind) == []) is ok


def test_maximum_and_minimum_apply_to_numbers_only(contract):
    # CheckingEvent.comment carries "maximum: 100" on a string: it must not count.
    assert contract.validate({"comment": "x" * 100}, "CheckingEvent") == []
    assert codes(contract.validate({"comment": "x" * 101}, "CheckingEvent")) == {
        ("comment", "TOO_LONG")
    }
    info = {"paymentMethod": "BANK_TRANSFER", "currency": "EUR", "dueDate": "2026-12-01"}
    assert codes(contract.validate({**info, "currencyRate": -1}, "PaymentInfo")) == {
        ("currencyRate", "TOO_SMALL")
    }
    assert codes(contract.validate({**info, "currencyRate": 1000001}, "PaymentInfo")) == {
        ("currencyRate", "TOO_LARGE")
    }


def test_all_of_wrapped_references_are_checked(contract):
    # Invoice.counterParty is {"allOf": [{"$ref": CounterParty}]}.
    errors = contract.validate({"counterParty": {"counterPartyAddress": {}}}, "InvoiceBasicInfo")
    assert codes(errors) == {("counterParty.counterPartyAddress.name", "REQUIRED")}


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["type", "name", "transactions", "account", "x"]), inner, max_size=4
        ),
        max_leaves=10,
    )
)
@settings(max_examples=200, deadline=None)
def test_any_json_value_gets_a_verdict_not_an_exception(value):
    result = Contract.packaged().validate(value, "LedgerReceipt")
    assert isinstance(result, list)


# -- dates -------------------------------------------------------------------------------------


def test_dates():
    assert parse_date("2026-11-22") == dt.date(2026, 11, 22)
    assert parse_date("20261122") is None
    assert parse_date("2026-13-01") is None
    assert parse_date_time("2016-08-31T00:00:00") == dt.datetime(2016, 8, 31)
    assert parse_date_time("2016-08-31T10:15") == dt.datetime(2016, 8, 31, 10, 15)
    assert parse_date_time("2016-08-31T10:15:30.123456789Z") == dt.datetime(
        2016, 8, 31, 10, 15, 30, 123456, tzinfo=dt.timezone.utc
    )
    assert parse_date_time("2016-08-31T10:15:30+0300").utcoffset() == dt.timedelta(hours=3)
    assert parse_date_time("2016-08-31") is None
    assert parse_date_time("2016-08-31T25:00:00") is None


# -- requests and responses --------------------------------------------------------------------


def test_operations_are_matched_most_specific_first(contract):
    op, params = contract.find_operation("PUT", "/invoices/12/approve")
    assert op.path == "/invoices/{invoiceId}/approve"
    assert params == {"invoiceId": "12"}
    assert contract.find_operation("GET", "/invoices/12")[0].path == "/invoices/{invoiceId}"
    assert contract.find_operation("DELETE", "/invoices/12") is None
    assert contract.paths_for("/invoices/12") == ["GET"]
    assert contract.find_operation("GET", "/nothing") is None


def check(contract, method, path, query="", body=b"", content_type=None, headers=None):
    operation, raw = contract.find_operation(method, path)
    return contract.check_request(operation, raw, query, headers or {}, content_type, body)


def test_query_parameters_are_converted(contract):
    request = check(
        contract,
        "GET",
        "/invoices",
        "status=PAID,MARKED_PAID&size=200&page=1&isOffer=false&versionStartDate=2026-01-01T00:00:00",
    )
    assert request.violations == []
    assert request.query == {
        "status": ["PAID", "MARKED_PAID"],
        "size": 200,
        "page": 1,
        "isOffer": False,
        "versionStartDate": "2026-01-01T00:00:00",
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("size=201", ("size", "TOO_LARGE")),
        ("size=ten", ("size", "INVALID_TYPE")),
        ("isOffer=yes", ("isOffer", "INVALID_TYPE")),
        ("status=PAID,LOST", ("status", "INVALID_ENUM_VALUE")),
        ("status=PAID&status=SENT", ("status", "DUPLICATE_PARAMETER")),
        ("name=Voucher", ("name", "UNKNOWN_PARAMETER")),
        ("startDate=2026-1-1", ("startDate", "INVALID_FORMAT")),
        ("orderById=UP", ("orderById", "INVALID_ENUM_VALUE")),
    ],
)
def test_query_parameters_that_break_the_contract(contract, query, expected):
    assert codes(check(contract, "GET", "/invoices", query).violations) == {expected}


def test_path_parameters_are_typed(contract):
    request = check(contract, "PUT", "/ledgerreceipts/12/approve")
    assert request.violations == []
    assert request.path_params == {"receiptId": Decimal(12)}
    assert codes(check(contract, "PUT", "/ledgerreceipts/x/approve").violations) == {
        ("receiptId", "INVALID_TYPE")
    }


def test_json_bodies(contract):
    ok = check(
        contract,
        "POST",
        "/ledgerreceipts",
        body=json.dumps(receipt(), default=str).replace('"10.00"', "10.00").encode(),
        content_type="application/json; charset=utf-8",
    )
    assert ok.violations == []
    assert ok.body["transactions"][0]["accountingValue"] == Decimal("10.00")
    assert codes(
        check(contract, "POST", "/ledgerreceipts", content_type="application/json").violations
    ) == {("", "BODY_REQUIRED")}
    assert codes(
        check(
            contract, "POST", "/ledgerreceipts", body=b"{", content_type="application/json"
        ).violations
    ) == {("", "INVALID_JSON")}
    assert codes(
        check(contract, "POST", "/ledgerreceipts", body=b"{}", content_type="text/plain").violations
    ) == {("Content-Type", "UNSUPPORTED_MEDIA_TYPE")}


def test_token_form(contract):
    form = b"grant_type=client_credentials&client_id=a&client_secret=b&api_key=c"
    plain = "application/x-www-form-urlencoded"
    assert check(contract, "POST", "/oauth/token", body=form, content_type=plain).violations == []
    with_charset = check(
        contract, "POST", "/oauth/token", body=form, content_type=plain + "; charset=utf-8"
    )
    assert codes(with_charset.violations) == {("Content-Type", "UNSUPPORTED_MEDIA_TYPE")}
    wrong = check(contract, "POST", "/oauth/token", body=b"grant_type=password", content_type=plain)
    assert codes(wrong.violations) == {
        ("grant_type", "INVALID_ENUM_VALUE"),
        ("client_id", "REQUIRED"),
        ("client_secret", "REQUIRED"),
        ("api_key", "REQUIRED"),
    }


def test_header_parameters(contract):
    request = check(contract, "GET", "/businesspartners", headers={"Name": "Maija"})
    assert request.violations == []
    assert request.headers == {"name": "Maija"}


def test_responses(contract):
    get_coa = contract.find_operation("GET", "/coa")[0]
    good = {"ledgerAccounts": [{"ledgerAccountCode": "1710", "name": "x", "active": True}]}
    assert contract.check_response(get_coa, 200, "application/json", good) == []
    bad = {"ledgerAccounts": [{"ledgerAccountCode": 1710}]}
    assert codes(contract.check_response(get_coa, 200, "application/json", bad)) == {
        ("ledgerAccounts[0].ledgerAccountCode", "INVALID_TYPE")
    }
    # Statuses the subset does not list per operation: only the generic error ones, as errors.
    error = {"errors": [{"status": 429, "message": "SLOW_DOWN"}]}
    assert contract.check_response(get_coa, 429, "application/json", error) == []
    assert codes(contract.check_response(get_coa, 429, "application/json", {"error": "x"})) == {
        ("error", "UNKNOWN_PROPERTY")
    }
    assert codes(contract.check_response(get_coa, 201, "application/json", good)) == {
        ("", "UNDECLARED_STATUS")
    }
    assert codes(contract.check_response(get_coa, 200, "text/html", good)) == {
        ("Content-Type", "UNDECLARED_MEDIA_TYPE")
    }
    # The token endpoint's 401 has no documented body.
    token = contract.find_operation("POST", "/oauth/token")[0]
    assert contract.check_response(token, 401, "text/plain", "denied") == []
