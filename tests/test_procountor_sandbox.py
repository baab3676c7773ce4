# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The Procountor sandbox itself, spoken to with plain HTTP requests."""

import copy
import json
from decimal import Decimal

import pytest
import requests

from nordic_billing.sandbox.procountor import (
    DEFAULT_API_KEY,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    LEAST_PRIVILEGE_API_KEY,
    SandboxState,
    example_invoice,
    example_ledger_receipt,
    serve,
    start_in_thread,
)

TIMEOUT = 5


@pytest.fixture
def sandbox():
    handle = start_in_thread()
    yield handle
    handle.stop()
    assert handle.state.violations == [], "the sandbox answered outside its contract"


@pytest.fixture
def http(sandbox):
    """A session logged in with the full-rights API key."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {login(sandbox)}"
    yield session
    session.close()


def login(sandbox, api_key=DEFAULT_API_KEY, secret=DEFAULT_CLIENT_SECRET):
    response = requests.post(
        f"{sandbox.url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": secret,
            "api_key": api_key,
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


RECEIPT = example_ledger_receipt()


def invoice_payload(number="INV-1", channel="EMAIL", **changes):
    body = example_invoice(number, channel)
    body.update(changes)
    return body


def receipt_with(**changes):
    body = copy.deepcopy(RECEIPT)
    body.update(changes)
    return body


def errors_of(response):
    assert response.headers["Content-Type"] == "application/json"
    return {(e.get("field"), e["message"]) for e in response.json()["errors"]}


# -- authentication ----------------------------------------------------------------------------


def test_token_endpoint_checks_client_and_api_key(sandbox):
    form = {
        "grant_type": "client_credentials",
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": "wrong",
        "api_key": DEFAULT_API_KEY,
    }
    url = f"{sandbox.url}/oauth/token"
    assert errors_of(requests.post(url, data=form, timeout=TIMEOUT)) == {(None, "INVALID_CLIENT")}
    form["client_secret"] = DEFAULT_CLIENT_SECRET
    bad_key = requests.post(url, data={**form, "api_key": "nope"}, timeout=TIMEOUT)
    assert (bad_key.status_code, errors_of(bad_key)) == (401, {(None, "INVALID_API_KEY")})
    missing = requests.post(url, data={"grant_type": "client_credentials"}, timeout=TIMEOUT)
    assert missing.status_code == 400
    assert ("api_key", "REQUIRED") in errors_of(missing)
    as_json = requests.post(url, json=form, timeout=TIMEOUT)
    assert errors_of(as_json) == {("Content-Type", "UNSUPPORTED_MEDIA_TYPE")}
    token = requests.post(url, data=form, timeout=TIMEOUT).json()
    assert token["expires_in"] == 3600 and token["token_type"] == "bearer"


def test_api_calls_need_a_live_token(sandbox):
    coa = f"{sandbox.url}/coa"
    assert requests.get(coa, timeout=TIMEOUT).status_code == 401
    headers = {"Authorization": "Bearer forged"}
    assert requests.get(coa, headers=headers, timeout=TIMEOUT).status_code == 401
    headers = {"Authorization": f"Bearer {login(sandbox)}"}
    assert requests.get(coa, headers=headers, timeout=TIMEOUT).status_code == 200
    sandbox.state.expire_tokens()
    assert requests.get(coa, headers=headers, timeout=TIMEOUT).status_code == 401


def test_token_lifetime_switch(sandbox):
    requests.put(f"{sandbox.control_url}/tokens/lifetime", json={"seconds": 0}, timeout=TIMEOUT)
    token = login(sandbox)
    response = requests.get(
        f"{sandbox.url}/coa", headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT
    )
    assert response.status_code == 401


def test_least_privilege_user_reads_the_chart_and_keeps_vouchers_only(sandbox):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {login(sandbox, LEAST_PRIVILEGE_API_KEY)}"
    url = sandbox.url
    assert session.get(f"{url}/coa", timeout=TIMEOUT).status_code == 200
    assert session.post(f"{url}/ledgerreceipts", json=RECEIPT, timeout=TIMEOUT).status_code == 200
    assert session.get(f"{url}/ledgerreceipts", timeout=TIMEOUT).status_code == 200
    for path in ("/dimensions", "/invoices", "/businesspartners", "/businesspartners/101"):
        response = session.get(f"{url}{path}", timeout=TIMEOUT)
        assert response.status_code == 403, path
        assert errors_of(response) == {(None, "INSUFFICIENT_RIGHTS")}
    # Rights are a switch too.
    requests.put(
        f"{sandbox.control_url}/apiusers/{LEAST_PRIVILEGE_API_KEY}",
        json={"permissions": ["coa", "ledgerreceipts", "dimensions"]},
        timeout=TIMEOUT,
    )
    assert session.get(f"{url}/dimensions", timeout=TIMEOUT).status_code == 200


# -- requests that break the contract ----------------------------------------------------------


def without(body, key):
    body = copy.deepcopy(body)
    del body[key]
    return body


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (without(RECEIPT, "receiptDate"), ("receiptDate", "REQUIRED")),
        (receipt_with(vatType="VAT"), ("vatType", "INVALID_ENUM_VALUE")),
        (receipt_with(name="N" * 81), ("name", "TOO_LONG")),
        (receipt_with(receiptDate="22.11.2026"), ("receiptDate", "INVALID_FORMAT")),
        (receipt_with(vatStatus="12"), ("vatStatus", "INVALID_TYPE")),
        (receipt_with(transactions=[]), ("transactions", "TOO_FEW_ITEMS")),
        (receipt_with(memo="x"), ("memo", "UNKNOWN_PROPERTY")),
        # Schema-valid but refused by Procountor's rules.
        (receipt_with(type="SALES_INVOICE"), ("type", "INVALID_RECEIPT_TYPE")),
    ],
)
def test_receipt_breaking_the_contract_is_refused(http, sandbox, body, expected):
    response = http.post(f"{sandbox.url}/ledgerreceipts", json=body, timeout=TIMEOUT)
    assert response.status_code == 400
    assert errors_of(response) == {expected}
    assert response.json()["errors"][0]["status"] == 400
    assert sandbox.state.environment().ledger_receipts == {}


def test_all_violations_are_listed(http, sandbox):
    body = receipt_with(name="N" * 81, vatType="VAT")
    response = http.post(f"{sandbox.url}/ledgerreceipts", json=body, timeout=TIMEOUT)
    assert errors_of(response) == {("name", "TOO_LONG"), ("vatType", "INVALID_ENUM_VALUE")}


def row_change(index, **changes):
    body = copy.deepcopy(RECEIPT)
    body["transactions"][index].update(changes)
    return body


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (row_change(0, accountingValue=40.49), ("transactions", "RECEIPT_NOT_BALANCED")),
        (row_change(0, account="1234"), ("transactions[0].account", "ACCOUNT_NOT_FOUND")),
        (row_change(0, account="3999"), ("transactions[0].account", "ACCOUNT_INACTIVE")),
        (
            row_change(1, dimensionItemValues=[{"dimensionId": 1, "itemId": 19, "value": -40.5}]),
            ("transactions[1].dimensionItemValues[0].itemId", "DIMENSION_ITEM_INACTIVE"),
        ),
        (
            row_change(1, dimensionItemValues=[{"dimensionId": 9, "itemId": 13, "value": -40.5}]),
            ("transactions[1].dimensionItemValues[0].dimensionId", "DIMENSION_NOT_FOUND"),
        ),
        (
            row_change(1, dimensionItemValues=[{"dimensionId": 1, "itemId": 21, "value": -40.5}]),
            ("transactions[1].dimensionItemValues[0].itemId", "DIMENSION_ITEM_NOT_FOUND"),
        ),
        (
            row_change(1, dimensionItemValues=[{"dimensionId": 1, "itemId": 13, "value": -40}]),
            ("transactions[1].dimensionItemValues", "DIMENSION_VALUES_DO_NOT_MATCH"),
        ),
        (
            row_change(
                1,
                dimensionItemValues=[
                    {"dimensionId": 1, "itemId": 13, "value": -20.25},
                    {"dimensionId": 1, "itemId": 13, "value": -20.25},
                ],
            ),
            ("transactions[1].dimensionItemValues[1]", "DUPLICATE_DIMENSION_ITEM"),
        ),
    ],
)
def test_receipt_breaking_bookkeeping_rules_is_refused(http, sandbox, body, expected):
    response = http.post(f"{sandbox.url}/ledgerreceipts", json=body, timeout=TIMEOUT)
    assert (response.status_code, errors_of(response)) == (400, {expected})


def test_dimension_values_may_split_a_row_over_items(http, sandbox):
    body = row_change(
        1,
        dimensionItemValues=[
            {"dimensionId": 1, "itemId": 12, "value": -20.25},
            {"dimensionId": 1, "itemId": 13, "value": -20.25},
        ],
    )
    assert http.post(f"{sandbox.url}/ledgerreceipts", json=body, timeout=TIMEOUT).ok


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("size=500", ("size", "TOO_LARGE")),
        ("name=Membership", ("name", "UNKNOWN_PARAMETER")),
        ("types=MEMO", ("types", "INVALID_ENUM_VALUE")),
        ("startDate=yesterday", ("startDate", "INVALID_FORMAT")),
    ],
)
def test_search_breaking_the_contract_is_refused(http, sandbox, query, expected):
    response = http.get(f"{sandbox.url}/ledgerreceipts?{query}", timeout=TIMEOUT)
    assert (response.status_code, errors_of(response)) == (400, {expected})


def test_unknown_paths_and_methods(http, sandbox):
    assert http.get(f"{sandbox.url}/vouchers", timeout=TIMEOUT).status_code == 404
    assert http.delete(f"{sandbox.url}/ledgerreceipts/1", timeout=TIMEOUT).status_code == 405
    assert http.get(f"{sandbox.url}/ledgerreceipts/999", timeout=TIMEOUT).status_code == 404
    root = sandbox.url.rsplit("/api", 1)[0]
    assert requests.get(f"{root}/coa", timeout=TIMEOUT).status_code == 404


# -- responses are checked too -----------------------------------------------------------------


def test_a_response_breaking_the_contract_is_a_loud_500(http, sandbox):
    broken = [{"ledgerAccountCode": 1710, "name": "numeric code"}]
    requests.post(
        f"{sandbox.control_url}/seed", json={"ledgerAccounts": broken}, timeout=TIMEOUT
    ).raise_for_status()
    response = http.get(f"{sandbox.url}/coa", timeout=TIMEOUT)
    assert response.status_code == 500
    assert errors_of(response) == {(None, "SANDBOX_RESPONSE_BREAKS_CONTRACT")}
    assert sandbox.state.violations == [
        "GET /coa -> 200: ledgerAccounts[0].ledgerAccountCode: INVALID_TYPE (expected string)"
    ]
    sandbox.state.violations.clear()  # seen; the fixture would fail the test otherwise


# -- ledger receipts ---------------------------------------------------------------------------


def test_receipt_lifecycle(http, sandbox):
    url = sandbox.url
    created = http.post(f"{url}/ledgerreceipts", json=RECEIPT, timeout=TIMEOUT).json()
    assert created["status"] == "UNFINISHED" and created["receiptNumber"] == 1
    assert created["transactions"][1]["accountingValue"] == -40.5
    receipt_id = created["id"]
    assert http.get(f"{url}/ledgerreceipts/{receipt_id}", timeout=TIMEOUT).json() == created
    approve = http.put(f"{url}/ledgerreceipts/{receipt_id}/approve", timeout=TIMEOUT)
    assert approve.status_code == 200
    again = http.put(f"{url}/ledgerreceipts/{receipt_id}/approve", timeout=TIMEOUT)
    assert (again.status_code, errors_of(again)) == (403, {(None, "INVALID_RECEIPT_STATUS")})
    found = http.get(
        f"{url}/ledgerreceipts",
        params={"startDate": "2026-11-22", "endDate": "2026-11-22", "types": "JOURNAL"},
        timeout=TIMEOUT,
    ).json()
    assert [(r["id"], r["name"], r["status"]) for r in found["results"]] == [
        (receipt_id, RECEIPT["name"], "APPROVED")
    ]
    other_day = http.get(
        f"{url}/ledgerreceipts", params={"startDate": "2026-11-23"}, timeout=TIMEOUT
    ).json()
    assert other_day["results"] == [] and other_day["meta"]["totalCount"] == 0


def test_amounts_are_rounded_to_cents(http, sandbox):
    body = row_change(0, accountingValue=40.499)
    created = http.post(f"{sandbox.url}/ledgerreceipts", json=body, timeout=TIMEOUT).json()
    assert created["transactions"][0]["accountingValue"] == 40.5


def test_search_pages_and_orders(http, sandbox):
    ids = [
        http.post(
            f"{sandbox.url}/ledgerreceipts", json=receipt_with(name=f"V{n}"), timeout=TIMEOUT
        ).json()["id"]
        for n in range(5)
    ]
    page = http.get(
        f"{sandbox.url}/ledgerreceipts", params={"size": 2, "page": 1}, timeout=TIMEOUT
    ).json()
    assert [r["id"] for r in page["results"]] == ids[::-1][2:4]  # newest first by default
    assert page["meta"] == {"pageNumber": 1, "pageSize": 2, "resultCount": 2, "totalCount": 5}
    ascending = http.get(
        f"{sandbox.url}/ledgerreceipts",
        params={"orderById": "ASC", "previousId": ids[1]},
        timeout=TIMEOUT,
    ).json()
    assert [r["id"] for r in ascending["results"]] == ids[2:]


# -- invoices ----------------------------------------------------------------------------------


def test_invoice_lifecycle_and_payment(http, sandbox):
    url = sandbox.url
    created = http.post(f"{url}/invoices", json=invoice_payload(), timeout=TIMEOUT)
    assert created.status_code == 200, created.text
    invoice = created.json()
    reference = invoice["paymentInfo"]["bankReferenceCode"]
    assert reference.isdigit() and reference.startswith(str(invoice["invoiceNumber"]))
    assert invoice["invoiceSumInfo"][0]["invoiceSumTotal"] == 45
    invoice_id = invoice["id"]
    send_early = http.put(f"{url}/invoices/{invoice_id}/send", timeout=TIMEOUT)
    assert send_early.status_code == 403
    approve_without_body = http.put(f"{url}/invoices/{invoice_id}/approve", timeout=TIMEOUT)
    # The contract lists no 400 for approve, but a request without its body gets one.
    assert errors_of(approve_without_body) == {(None, "BODY_REQUIRED")}
    assert http.put(f"{url}/invoices/{invoice_id}/approve", json={}, timeout=TIMEOUT).ok
    assert http.put(f"{url}/invoices/{invoice_id}/send", timeout=TIMEOUT).ok
    assert http.get(f"{url}/invoices/{invoice_id}", timeout=TIMEOUT).json()["status"] == "SENT"

    control = f"{sandbox.control_url}/invoices/{invoice_id}/payments"
    requests.post(control, json={"amount": "20.00"}, timeout=TIMEOUT).raise_for_status()
    assert http.get(f"{url}/invoices/{invoice_id}", timeout=TIMEOUT).json()["status"] == (
        "PARTLY_PAID"
    )
    requests.post(control, json={"paymentDate": "2026-12-01"}, timeout=TIMEOUT).raise_for_status()
    assert http.get(f"{url}/invoices/{invoice_id}", timeout=TIMEOUT).json()["status"] == "PAID"
    events = http.get(f"{url}/invoices/{invoice_id}/paymentevents", timeout=TIMEOUT).json()
    assert sorted(e["amount"] for e in events["results"]) == [20, 25]
    paid = http.get(f"{url}/invoices", params={"status": "PAID,MARKED_PAID"}, timeout=TIMEOUT)
    assert [i["id"] for i in paid.json()["results"]] == [invoice_id]
    by_number = http.get(
        f"{url}/invoices", params={"originalInvoiceNumber": "INV-1"}, timeout=TIMEOUT
    ).json()
    assert by_number["results"][0]["dueDate"] == "2026-12-06"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"invoiceChannel": "PAPER_INVOICE"}, ("invoiceChannel", "INVALID_INVOICE_CHANNEL")),
        ({"invoiceChannel": "FAX"}, ("invoiceChannel", "INVALID_ENUM_VALUE")),
        ({"type": "PURCHASE_INVOICE"}, ("type", "UNSUPPORTED_INVOICE_TYPE")),
        ({"invoiceRows": []}, ("invoiceRows", "INVOICE_ROWS_REQUIRED")),
        ({"originalInvoiceNumber": "9" * 41}, ("originalInvoiceNumber", "TOO_LONG")),
        (
            {"invoiceChannel": "ELECTRONIC_INVOICE"},
            ("counterParty.einvoiceAddress.address", "EINVOICE_ADDRESS_REQUIRED"),
        ),
        (
            {
                "invoiceChannel": "ELECTRONIC_INVOICE",
                "paymentInfo": {
                    "paymentMethod": "DIRECT_PAYMENT",
                    "currency": "EUR",
                    "dueDate": "2026-12-06",
                    "currencyRate": 1,
                },
            },
            ("invoiceChannel", "DIRECT_PAYMENT_NEEDS_MAIL_OR_EMAIL"),
        ),
        (
            {
                "paymentInfo": {
                    "paymentMethod": "BANK_TRANSFER",
                    "currency": "EUR",
                    "dueDate": "2026-11-01",
                    "currencyRate": 1,
                }
            },
            ("paymentInfo.dueDate", "DUE_DATE_BEFORE_BILL_DATE"),
        ),
        (
            {
                "paymentInfo": {
                    "paymentMethod": "BANK_TRANSFER",
                    "currency": "EUR",
                    "dueDate": "2026-12-06",
                    "currencyRate": 1,
                    "bankReferenceCode": "1234",
                    "bankReferenceCodeType": "FI",
                }
            },
            ("paymentInfo.bankReferenceCode", "INVALID_REFERENCE_CODE"),
        ),
    ],
)
def test_invoice_breaking_rules_is_refused(http, sandbox, changes, expected):
    response = http.post(
        f"{sandbox.url}/invoices", json=invoice_payload(**changes), timeout=TIMEOUT
    )
    assert (response.status_code, errors_of(response)) == (400, {expected})


def test_consumer_einvoice_and_rf_reference(http, sandbox):
    body = invoice_payload(channel="ELECTRONIC_INVOICE")
    body["counterParty"]["einvoiceAddress"] = {
        "address": "FI7429501800000014",
        "operator": "NDEAFIHH",
    }
    body["paymentInfo"]["bankReferenceCodeType"] = "RF"
    invoice = http.post(f"{sandbox.url}/invoices", json=body, timeout=TIMEOUT).json()
    assert invoice["paymentInfo"]["bankReferenceCode"].startswith("RF")
    body["paymentInfo"]["bankReferenceCode"] = invoice["paymentInfo"]["bankReferenceCode"]
    assert http.post(f"{sandbox.url}/invoices", json=body, timeout=TIMEOUT).ok


# -- business partners -------------------------------------------------------------------------


def test_partner_channel_change_moves_its_version(http, sandbox):
    url = sandbox.url
    partners = http.get(f"{url}/businesspartners", timeout=TIMEOUT).json()["results"]
    maija = next(p for p in partners if p["invoicingInfo"]["customerNumber"] == "M-1001")
    before = maija["version"]
    changed = requests.put(
        f"{sandbox.control_url}/businesspartners/{maija['id']}/invoicing",
        json={
            "invoiceChannel": "ELECTRONIC_INVOICE",
            "einvoiceAddress": "FI7429501800000014",
            "einvoiceOperator": "NDEAFIHH",
        },
        timeout=TIMEOUT,
    ).json()
    assert changed["version"] > before
    since = http.get(
        f"{url}/businesspartners", params={"versionStartDate": changed["version"]}, timeout=TIMEOUT
    ).json()["results"]
    assert [p["id"] for p in since] == [maija["id"]]
    full = http.get(f"{url}/businesspartners/{maija['id']}", timeout=TIMEOUT).json()
    assert full["invoicingInfo"]["invoiceChannel"] == "ELECTRONIC_INVOICE"
    by_name = http.get(
        f"{url}/businesspartners", headers={"name": "meikäläinen".encode()}, timeout=TIMEOUT
    ).json()["results"]
    assert [p["id"] for p in by_name] == [maija["id"]]


def test_partner_created_over_control(http, sandbox):
    created = requests.post(
        f"{sandbox.control_url}/businesspartners",
        json={"name": "Uusi Jäsen", "customerNumber": "M-2000", "invoiceChannel": "MAIL"},
        timeout=TIMEOUT,
    ).json()
    found = http.get(
        f"{sandbox.url}/businesspartners", params={"customerNumber": "M-2000"}, timeout=TIMEOUT
    ).json()["results"]
    assert [p["id"] for p in found] == [created["id"]]
    # Control input that the API could not answer within its contract is refused up front.
    refused = requests.put(
        f"{sandbox.control_url}/businesspartners/{created['id']}/invoicing",
        json={"invoiceChannel": "FAX"},
        timeout=TIMEOUT,
    )
    assert refused.status_code == 400 and "INVALID_ENUM_VALUE" in refused.json()["error"]
    full = http.get(f"{sandbox.url}/businesspartners/{created['id']}", timeout=TIMEOUT).json()
    assert full["invoicingInfo"]["invoiceChannel"] == "MAIL"


# -- faults and control ------------------------------------------------------------------------


def test_faults_over_http(http, sandbox):
    control = f"{sandbox.control_url}/faults"
    requests.post(
        control,
        json={"kind": "status", "status": 429, "count": 2, "retryAfter": 7, "path": "/coa"},
        timeout=TIMEOUT,
    ).raise_for_status()
    assert requests.get(control, timeout=TIMEOUT).json()[0]["count"] == 2
    assert http.get(f"{sandbox.url}/dimensions", timeout=TIMEOUT).status_code == 200
    first = http.get(f"{sandbox.url}/coa", timeout=TIMEOUT)
    assert (first.status_code, first.headers["Retry-After"]) == (429, "7")
    assert http.get(f"{sandbox.url}/coa", timeout=TIMEOUT).status_code == 429
    assert http.get(f"{sandbox.url}/coa", timeout=TIMEOUT).status_code == 200
    assert requests.get(control, timeout=TIMEOUT).json() == []
    requests.post(control, json={"status": 503, "count": 5}, timeout=TIMEOUT)
    requests.delete(control, timeout=TIMEOUT)
    assert http.get(f"{sandbox.url}/coa", timeout=TIMEOUT).status_code == 200


def test_store_then_time_out_keeps_the_voucher(http, sandbox):
    sandbox.faults.store_then_timeout(2.0)
    with pytest.raises(requests.ReadTimeout):
        http.post(f"{sandbox.url}/ledgerreceipts", json=RECEIPT, timeout=0.2)
    assert len(sandbox.state.environment().ledger_receipts) == 1


def test_slow_fault_delays_before_work(http, sandbox):
    sandbox.faults.slow(2.0, path="/ledgerreceipts")
    with pytest.raises(requests.ReadTimeout):
        http.post(f"{sandbox.url}/ledgerreceipts", json=RECEIPT, timeout=0.2)
    assert sandbox.state.environment().ledger_receipts == {}  # still waiting


def test_state_and_reset_over_http(http, sandbox):
    http.post(f"{sandbox.url}/ledgerreceipts", json=RECEIPT, timeout=TIMEOUT).raise_for_status()
    state = requests.get(f"{sandbox.control_url}/state", timeout=TIMEOUT).json()
    assert state["environments"]["default"]["ledgerReceipts"] == 1
    assert state["apiUsers"][LEAST_PRIVILEGE_API_KEY]["permissions"] == ["coa", "ledgerreceipts"]
    requests.post(f"{sandbox.control_url}/reset", timeout=TIMEOUT).raise_for_status()
    assert sandbox.state.environment().ledger_receipts == {}
    assert http.get(f"{sandbox.url}/coa", timeout=TIMEOUT).status_code == 401  # tokens are gone
    bad = requests.post(f"{sandbox.control_url}/faults", data=b"{", timeout=TIMEOUT)
    assert bad.status_code == 400
    assert requests.get(f"{sandbox.control_url}/nothing", timeout=TIMEOUT).status_code == 404


def test_custom_seed_and_environments():
    chart = [{"ledgerAccountCode": "1000", "name": "Kassa", "active": True}]
    state = SandboxState(accounts=chart, dimensions=[], seed_partners=False)
    state.add_environment("club")
    state.add_api_user("club-key", environment="club", permissions={"coa"})
    with pytest.raises(ValueError):
        state.add_api_user("x", permissions={"everything"})
    with start_in_thread(state=state) as sandbox:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {login(sandbox)}"
        assert session.get(f"{sandbox.url}/coa", timeout=TIMEOUT).json() == {
            "ledgerAccounts": chart
        }
        assert (
            session.get(f"{sandbox.url}/businesspartners", timeout=TIMEOUT).json()["results"] == []
        )
        session.headers["Authorization"] = f"Bearer {login(sandbox, 'club-key')}"
        accounts = session.get(f"{sandbox.url}/coa", timeout=TIMEOUT).json()["ledgerAccounts"]
        assert "1710" in {a["ledgerAccountCode"] for a in accounts}
    assert state.violations == []


def test_decimal_amounts_round_trip(http, sandbox):
    body = json.dumps(RECEIPT).replace("40.5", "40.50").encode()
    response = http.post(
        f"{sandbox.url}/ledgerreceipts",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    values = [t["accountingValue"] for t in response.json()["transactions"]]
    assert [Decimal(str(v)) for v in values] == [Decimal("40.5"), Decimal("-40.5")]


def test_new_api_client_over_http(sandbox):
    requests.post(
        f"{sandbox.control_url}/clients",
        json={"clientId": "odoo", "clientSecret": "s3cret"},
        timeout=TIMEOUT,
    ).raise_for_status()
    form = {
        "grant_type": "client_credentials",
        "client_id": "odoo",
        "client_secret": "s3cret",
        "api_key": DEFAULT_API_KEY,
    }
    assert requests.post(f"{sandbox.url}/oauth/token", data=form, timeout=TIMEOUT).ok


def test_serve_runs_until_interrupted(monkeypatch):
    started = []

    def interrupted(self, timeout=None):
        started.append(requests.get(f"{self.control_url}/state", timeout=TIMEOUT).status_code)
        raise KeyboardInterrupt

    monkeypatch.setattr("nordic_billing.sandbox.procountor.SandboxHandle.wait", interrupted)
    serve("127.0.0.1", 0)
    assert started == [200]
