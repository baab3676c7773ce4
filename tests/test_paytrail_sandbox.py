# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The Paytrail client against the Paytrail sandbox, over real HTTP."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from nordic_billing import paytrail
from nordic_billing.sandbox.paytrail import start_in_thread


class _Shop(BaseHTTPRequestHandler):
    """The merchant's side: records every callback and redirect it receives."""

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        parts = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        self.server.received.append((parts.path, params))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append((self.path, {"headers": dict(self.headers), "body": body}))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture(scope="module")
def shop():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Shop)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    server.url = f"http://{host}:{port}"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def server():
    handle = start_in_thread()
    yield handle
    handle.stop()


@pytest.fixture
def sandbox(server, shop):
    requests.post(f"{server.url}/_sandbox/reset", timeout=5).raise_for_status()
    shop.received.clear()
    yield server
    assert server.wait_callbacks()


@pytest.fixture
def client(sandbox):
    return paytrail.PaytrailClient(base_url=sandbox.url, timeout=5)


def new_payment(shop, amount=2500, **extra):
    return {
        "stamp": str(uuid.uuid4()),
        "reference": "RF471234567890",
        "amount": amount,
        "currency": "EUR",
        "language": "FI",
        "items": [{"unitPrice": amount, "units": 1, "vatPercentage": 0, "productCode": "FEE"}],
        "customer": {"email": "member@example.com"},
        "redirectUrls": {"success": f"{shop.url}/return", "cancel": f"{shop.url}/return"},
        "callbackUrls": {"success": f"{shop.url}/callback", "cancel": f"{shop.url}/callback"},
        **extra,
    }


def complete(sandbox, transaction_id, **body):
    response = requests.post(
        f"{sandbox.url}/_sandbox/payments/{transaction_id}/complete", json=body, timeout=15
    )
    response.raise_for_status()
    return response.json()


def test_create_pay_on_hosted_page_and_get(client, sandbox, shop):
    created = client.create_payment(new_payment(shop))
    assert created["href"].startswith(sandbox.url + "/pay/")
    assert {p["id"] for p in created["providers"]} >= {"nordea", "osuuspankki"}
    page = requests.get(created["href"], timeout=5)
    assert "25.00 EUR" in page.text and 'value="nordea"' in page.text
    paid = requests.post(
        f"{created['href']}/nordea", data={"bank": "nordea"}, allow_redirects=False, timeout=5
    )
    assert paid.status_code == 303
    location = urlsplit(paid.headers["Location"])
    assert location.path == "/return"
    params = {k: v[-1] for k, v in parse_qs(location.query, keep_blank_values=True).items()}
    data = paytrail.parse_return(paytrail.TEST_SECRET, params, paytrail.TEST_MERCHANT_ID)
    assert (data.status, data.amount_cents, data.provider) == ("ok", 2500, "nordea")
    assert sandbox.wait_callbacks()
    callbacks = [p for path, p in shop.received if path == "/callback"]
    assert len(callbacks) == 1
    assert paytrail.parse_return(paytrail.TEST_SECRET, callbacks[0]).status == "ok"
    payment = client.get_payment(created["transactionId"])
    assert payment["status"] == "ok" and payment["provider"] == "nordea"
    # A second click changes nothing and sends no second callback.
    again = requests.post(f"{created['href']}/osuuspankki", allow_redirects=False, timeout=5)
    assert again.status_code == 303
    assert client.get_payment(created["transactionId"])["provider"] == "nordea"


def test_cancel_on_hosted_page(client, sandbox, shop):
    created = client.create_payment(new_payment(shop))
    cancelled = requests.post(f"{created['href']}/cancel", allow_redirects=False, timeout=5)
    params = {
        k: v[-1]
        for k, v in parse_qs(
            urlsplit(cancelled.headers["Location"]).query, keep_blank_values=True
        ).items()
    }
    assert paytrail.parse_return(paytrail.TEST_SECRET, params).status == "fail"
    assert client.get_payment(created["transactionId"])["status"] == "fail"


def test_pending_then_ok_and_unknown_parameters(client, sandbox, shop):
    requests.post(
        f"{sandbox.url}/_sandbox/config",
        json={"extra_params": {"checkout-brand-new": "yes"}},
        timeout=5,
    ).raise_for_status()
    created = client.create_payment(new_payment(shop))
    pending = complete(sandbox, created["transactionId"], status="pending")
    assert pending["callback"]["status"] == 200
    assert paytrail.parse_return(paytrail.TEST_SECRET, pending["params"]).status == "pending"
    done = complete(sandbox, created["transactionId"], status="ok")
    data = paytrail.parse_return(paytrail.TEST_SECRET, done["params"])
    assert data.status == "ok" and data.params["checkout-brand-new"] == "yes"


def test_requests_are_verified(sandbox):
    body = paytrail.encode_body({"stamp": "x"})
    headers = paytrail.request_headers("375917", "WRONG", "POST", body)
    response = requests.post(f"{sandbox.url}/payments", data=body, headers=headers, timeout=5)
    assert response.status_code == 401
    bad_client = paytrail.PaytrailClient(secret="WRONG", base_url=sandbox.url, timeout=5)
    with pytest.raises(paytrail.SignatureError):
        bad_client.settlements()
    # The same nonce twice: refused.
    headers = paytrail.request_headers(
        paytrail.TEST_MERCHANT_ID, paytrail.TEST_SECRET, "GET", nonce="fixed"
    )
    assert requests.get(f"{sandbox.url}/settlements", headers=headers, timeout=5).ok
    assert requests.get(f"{sandbox.url}/settlements", headers=headers, timeout=5).status_code == 401


def test_tampered_answer_is_refused(client, sandbox, monkeypatch):
    """The sandbox always signs correctly; a changed body in transit is simulated here."""
    original = requests.Session.request

    def tamper(self, *args, **kwargs):
        response = original(self, *args, **kwargs)
        response._content = response.content.replace(b"[]", b"[{}]")
        return response

    monkeypatch.setattr(requests.Session, "request", tamper)
    with pytest.raises(paytrail.SignatureError):
        client.settlements()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"amount": 2400}, "sum of items"),
        ({"currency": "SEK"}, "currency"),
        ({"customer": {}}, "customer.email"),
        ({"redirectUrls": {"success": "ftp://x"}}, "redirectUrls"),
        ({"language": "DE"}, "language"),
    ],
)
def test_bad_payments_are_refused(client, shop, change, message):
    with pytest.raises(paytrail.PaytrailError, match=message) as caught:
        client.create_payment({**new_payment(shop), **change})
    assert caught.value.status == 400 and caught.value.request_id


def test_duplicate_stamp(client, shop):
    payment = new_payment(shop)
    client.create_payment(payment)
    with pytest.raises(paytrail.PaytrailError, match="Duplicate stamp"):
        client.create_payment(payment)


def test_refund(client, sandbox, shop):
    created = client.create_payment(new_payment(shop))
    transaction_id = created["transactionId"]
    refund = {
        "amount": 1000,
        "refundStamp": "R-1",
        "refundReference": "R-1",
        "callbackUrls": {"success": f"{shop.url}/refund", "cancel": f"{shop.url}/refund"},
    }
    with pytest.raises(paytrail.PaytrailError, match="only a paid payment"):
        client.refund(transaction_id, refund)
    complete(sandbox, transaction_id, status="ok")
    answer = client.refund(transaction_id, refund)
    assert answer["status"] == "ok"
    assert sandbox.wait_callbacks()
    refunds = [p for path, p in shop.received if path == "/refund"]
    data = paytrail.parse_return(paytrail.TEST_SECRET, refunds[0])
    assert (data.stamp, data.amount_cents, data.status) == ("R-1", 1000, "ok")
    with pytest.raises(paytrail.PaytrailError, match="Duplicate refundStamp"):
        client.refund(transaction_id, refund)
    with pytest.raises(paytrail.PaytrailError, match="1500 cents left"):
        client.refund(transaction_id, {**refund, "amount": 1600, "refundStamp": "R-2"})


def test_settlement_net_of_commission(client, sandbox, shop):
    requests.post(
        f"{sandbox.url}/_sandbox/config",
        json={"commission_percent": "2.5", "commission_fixed_cents": 10},
        timeout=5,
    ).raise_for_status()
    ids = []
    for amount in (2500, 4000):
        created = client.create_payment(new_payment(shop, amount))
        complete(sandbox, created["transactionId"], status="ok")
        ids.append(created["transactionId"])
    unpaid = client.create_payment(new_payment(shop, 999))
    response = requests.post(f"{sandbox.url}/_sandbox/settlements", json={}, timeout=5)
    settlement = response.json()
    assert settlement["transactions"] == ids  # not the unpaid one
    # 2.5 % of 25.00 = 0.625 -> 0.63 (half up), of 40.00 = 1.00; plus 0.10 each
    assert settlement["commission"] == 63 + 10 + 100 + 10
    assert settlement["net"] == 6500 - 183
    listed = client.settlements(bank_reference=settlement["settlementReference"])
    assert listed == [
        {k: settlement[k] for k in ("id", "createdAt", "settledAt", "settlementReference")}
    ]
    assert client.settlements(bank_reference="13") == []
    for transaction_id in ids:
        payment = client.get_payment(transaction_id)
        assert payment["settlementReference"] == settlement["settlementReference"]
    assert "settlementReference" not in client.get_payment(unpaid["transactionId"])
    again = requests.post(
        f"{sandbox.url}/_sandbox/settlements", json={"transactions": ids}, timeout=5
    )
    assert again.status_code == 400


def test_settlement_report_is_posted_signed(client, sandbox, shop):
    created = client.create_payment(new_payment(shop, 4000))
    complete(sandbox, created["transactionId"], status="ok")
    settlement = requests.post(f"{sandbox.url}/_sandbox/settlements", json={}, timeout=5).json()
    answer = client.request(
        "POST",
        f"/settlements/{settlement['id']}/payments/report",
        {"requestType": "json", "callbackUrl": f"{shop.url}/report"},
    )
    assert answer["requestId"]
    assert sandbox.wait_callbacks()
    [(path, report)] = [item for item in shop.received if item[0] == "/report"]
    paytrail.verify_response(paytrail.TEST_SECRET, report["headers"], report["body"])
    [row] = json.loads(report["body"])
    assert row["checkoutReference"] == created["transactionId"]
    assert (row["amount"], row["paymentMethodCommission"]) == (40.0, 0.9)  # 2 % + 0.10
    assert row["settlementReference"] == settlement["settlementReference"]
    with pytest.raises(paytrail.PaytrailError, match="not found"):
        client.request("POST", "/settlements/1/payments/report", {"requestType": "json"})


def test_serve_prints_how_to_use(capsys, monkeypatch):
    from nordic_billing.sandbox import paytrail as module

    monkeypatch.setattr(module._Server, "serve_forever", lambda self: None)
    module.serve("127.0.0.1", 0)
    out = capsys.readouterr().out
    assert "Paytrail sandbox on http://127.0.0.1:" in out
    assert "375917" in out and "SAIPPUAKAUPPIAS" in out and "/_sandbox/received" in out
