# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The sandbox agency itself: its HTTP control API, its answers to bad requests, ``serve``."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
import requests
import zeep
from zeep.transports import Transport

from nordic_billing.sandbox.agency import DEFAULT_API_KEY, start_in_thread

KEY = {"X-API-Key": DEFAULT_API_KEY}
NEW_CASE = {
    "debtor": {
        "type": "company",
        "name": "Eksempel AS",
        "id_number": "987654321",
        "address_lines": ["Storgata 1"],
        "zip": "0155",
        "city": "Oslo",
        "country": "NO",
    },
    "claim": {
        "external_key": "7/F-1001",
        "invoice_number": "F-1001",
        "invoice_date": "2026-01-05",
        "due_date": "2026-01-19",
        "original_amount": "1250.00",
        "outstanding_amount": "1250.00",
        "currency": "NOK",
        "reference": "0000010010018",
    },
}

PAYMENT = {"payment_id": "P-1", "amount": "1.00"}


@pytest.fixture(scope="module")
def server():
    handle = start_in_thread()
    yield handle
    handle.stop()


@pytest.fixture
def sandbox(server):
    requests.post(f"{server.url}/_sandbox/reset", timeout=2).raise_for_status()
    yield server
    server.faults.reset()
    assert server.wait_idle()


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


def control(http, sandbox, method, path, body=None):
    response = http.request(method, f"{sandbox.url}/_sandbox/{path}", json=body, timeout=2)
    return response.status_code, response.json()


def create(http, sandbox, body=NEW_CASE):
    return http.post(f"{sandbox.rest_url}/cases", json=body, headers=KEY, timeout=2)


def test_faults_over_http(http, sandbox):
    status, faults = control(
        http, sandbox, "POST", "faults", {"fail_next": {"n": 1, "status": 503, "operation": "ping"}}
    )
    assert status == 200 and faults["fail_next"]["n"] == 1

    first = http.get(f"{sandbox.rest_url}/ping", headers=KEY, timeout=2)
    second = http.get(f"{sandbox.rest_url}/ping", headers=KEY, timeout=2)

    assert (first.status_code, first.json()["error"]["code"]) == (503, "unavailable")
    assert second.status_code == 200
    assert control(http, sandbox, "DELETE", "faults")[1]["fail_next"] is None


def test_store_then_fail_over_http(http, sandbox):
    control(http, sandbox, "POST", "faults", {"store_then_fail": {"n": 1}})

    failed = create(http, sandbox)
    again = create(http, sandbox)

    assert failed.status_code == 500
    assert again.status_code == 409
    assert again.json()["error"]["case_number"] == "C000001"
    _status, state = control(http, sandbox, "GET", "state")
    assert [c["case_number"] for c in state["cases"]] == ["C000001"]
    assert [call[1:] for call in state["calls"]] == [["create_case", 500], ["create_case", 409]]


def test_slow_and_hanging_answers_over_http(http, sandbox):
    control(http, sandbox, "POST", "faults", {"slow": {"seconds": 0.3, "n": 1}})
    started = time.monotonic()
    http.get(f"{sandbox.rest_url}/ping", headers=KEY, timeout=2).raise_for_status()
    assert time.monotonic() - started >= 0.3

    control(http, sandbox, "POST", "faults", {"store_then_fail": {"n": 1, "mode": "timeout"}})
    control(http, sandbox, "POST", "faults", {"hang_seconds": 5})
    with pytest.raises(requests.Timeout):
        http.post(f"{sandbox.rest_url}/cases", json=NEW_CASE, headers=KEY, timeout=0.2)
    assert len(sandbox.state.cases) == 1  # stored although the answer never came


def test_advance_a_case_over_http(http, sandbox):
    number = create(http, sandbox).json()["case_number"]

    status, result = control(
        http,
        sandbox,
        "POST",
        f"cases/{number}/advance",
        {"principal": "1250.00", "interest": "11.00", "costs": "700.00", "date": "2026-03-02"},
    )
    updates = http.get(f"{sandbox.rest_url}/updates", headers=KEY, timeout=2).json()
    lines = http.get(f"{sandbox.rest_url}/settlements", headers=KEY, timeout=2).json()

    assert status == 200
    assert result["case"]["status"] == "paid"
    assert [x["kind"] for x in result["lines"]] == ["principal", "interest", "costs"]
    assert updates["items"][0]["collected_costs"] == "700.00"
    assert lines["items"] == result["lines"]
    assert "next_cursor" not in lines


def test_control_errors(http, sandbox):
    assert control(http, sandbox, "POST", "cases/C404/advance", {"principal": "1"})[0] == 404
    assert (
        control(http, sandbox, "POST", "faults", {"slow": {"seconds": 1, "operation": "x"}})[0]
        == 400
    )
    assert control(http, sandbox, "POST", "nothing")[0] == 404
    number = create(http, sandbox).json()["case_number"]
    status, body = control(http, sandbox, "POST", f"cases/{number}/advance", {"status": "lost"})
    assert (status, body["error"]["field"]) == (422, "status")


def test_api_key_can_be_changed(http, sandbox):
    control(http, sandbox, "POST", "config", {"api_key": "rotated"})
    try:
        old = http.get(f"{sandbox.rest_url}/ping", headers=KEY, timeout=2)
        bearer = http.get(
            f"{sandbox.rest_url}/ping", headers={"Authorization": "Bearer rotated"}, timeout=2
        )
        assert old.status_code == 401
        assert old.json()["error"]["code"] == "unauthorized"
        assert old.headers["WWW-Authenticate"].startswith("Bearer")
        assert bearer.status_code == 200
    finally:
        sandbox.state.api_key = DEFAULT_API_KEY


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        ("GET", "/nothing", None, 404, None),
        ("GET", "/cases", None, 422, "external_key"),
        ("GET", "/updates?limit=0", None, 422, "limit"),
        ("GET", "/updates?since=yesterday", None, 422, "since"),
        ("GET", "/settlements?cursor=garbage", None, 422, "cursor"),
        ("POST", "/cases", b"{not json", 400, None),
        ("POST", "/cases/C1/payments", {**PAYMENT, "date": "2026-03-01"}, 404, None),
        ("POST", "/cases/C1/payments", {**PAYMENT, "date": "x"}, 422, "date"),
    ],
)
def test_bad_rest_requests(http, sandbox, method, path, body, status, field):
    kwargs = {"data": body} if isinstance(body, bytes) else {"json": body}
    response = http.request(method, sandbox.rest_url + path, headers=KEY, timeout=2, **kwargs)

    assert response.status_code == status
    assert response.json()["error"].get("field") == field


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"claim": {"due_date": "2026-01-01"}}, "claim.due_date", "before the invoice date"),
        ({"claim": {"original_amount": "12.345"}}, "claim.original_amount", "2 decimals"),
        ({"claim": {"currency": "kr"}}, "claim.currency", "ISO 4217"),
        ({"claim": {"external_key": "a b"}}, "claim.external_key", "characters"),
        ({"debtor": {"country": "Norway"}}, "debtor.country", "ISO 3166"),
        ({"debtor": {"type": "private"}}, "debtor.type", "person, company"),
        ({"debtor": {"address_lines": ["1", "2", "3", "4", "5"]}}, "debtor.address_lines", "4"),
    ],
)
def test_case_validation_messages(http, sandbox, change, field, message):
    body = {part: {**NEW_CASE[part], **change.get(part, {})} for part in NEW_CASE}

    response = create(http, sandbox, body)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == field
    assert message in error["message"]


def soap_post(http, sandbox, body: str, headers=KEY):
    envelope = (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:a="urn:nordic-billing:collection-agency:1"><soap:Body>'
        f"{body}</soap:Body></soap:Envelope>"
    )
    return http.post(
        sandbox.soap_url,
        data=envelope.encode(),
        headers={"Content-Type": "text/xml", **headers},
        timeout=2,
    )


def test_soap_refuses_what_the_schema_refuses(http, sandbox):
    find = "<a:FindCase><a:ExternalKey>a b</a:ExternalKey></a:FindCase>"
    response = soap_post(http, sandbox, find)

    assert response.status_code == 500
    assert b"faultcode>soap:Client<" in response.content
    assert b"schema:" in response.content


def test_soap_unknown_request_and_wrong_key(http, sandbox):
    unknown = soap_post(http, sandbox, "<a:Nothing/>")
    unauthorised = soap_post(http, sandbox, "<a:Ping/>", headers={"X-API-Key": "wrong"})
    answered = soap_post(http, sandbox, "<a:Ping/>")

    assert b"not a request of this service" in unknown.content
    assert unauthorised.status_code == 401
    assert answered.status_code == 200 and b"<tns:Status>ok</tns:Status>" in answered.content


def test_wsdl_is_served_with_this_address(http, sandbox):
    text = http.get(sandbox.wsdl_url, timeout=2).text

    assert f'location="{sandbox.soap_url}"' in text
    with requests.Session() as session:
        session.headers.update(KEY)
        client = zeep.Client(sandbox.wsdl_url, transport=Transport(session=session, timeout=2))
        assert client.service.Ping() == "ok"


def test_serve_runs_in_the_foreground():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = f"from nordic_billing.sandbox.agency import serve; serve('127.0.0.1', {port})"
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        banner = process.stdout.readline()
        response = requests.get(f"http://127.0.0.1:{port}/rest/v1/ping", headers=KEY, timeout=5)
        assert banner.startswith(f"Collection agency sandbox on http://127.0.0.1:{port}")
        assert response.json()["status"] == "ok"
    finally:
        process.terminate()
        process.communicate(timeout=5)
