# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The Procountor client against the sandbox, over real HTTP on 127.0.0.1."""

import copy
import datetime as dt
import email.utils
from decimal import Decimal

import pytest

from nordic_billing import vouchers
from nordic_billing.procountor import (
    Credentials,
    ProcountorAuthError,
    ProcountorClient,
    ProcountorNotFoundError,
    ProcountorPermissionError,
    ProcountorRateLimitedError,
    ProcountorUnavailableError,
    ProcountorUnknownOutcomeError,
    ProcountorValidationError,
    RetryPolicy,
    TokenCache,
    is_paid,
)
from nordic_billing.sandbox.procountor import (
    DEFAULT_API_KEY,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    LEAST_PRIVILEGE_API_KEY,
    SandboxState,
    example_invoice,
    start_in_thread,
)

D = Decimal
SHORT_TIMEOUT = 0.3  # seconds; the sandbox hangs longer than this when told to


class Waits:
    """A sleep that only records what it was asked to wait."""

    def __init__(self):
        self.waits = []

    def __call__(self, seconds):
        self.waits.append(seconds)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def sandbox():
    handle = start_in_thread()
    yield handle
    handle.stop()
    assert handle.state.violations == [], "the sandbox answered outside its contract"


def client_for(sandbox, api_key=DEFAULT_API_KEY, *, secret=DEFAULT_CLIENT_SECRET, **options):
    options.setdefault("timeout", 2.0)
    options.setdefault("sleep", Waits())
    return ProcountorClient(Credentials(DEFAULT_CLIENT_ID, secret, api_key), sandbox.url, **options)


@pytest.fixture
def client(sandbox):
    with client_for(sandbox) as client:
        yield client


def requests_to(sandbox, method, path=None):
    return [r for r in sandbox.state.requests if r[0] == method and (path is None or r[1] == path)]


def receipts(sandbox, environment="default"):
    return list(sandbox.state.environment(environment).ledger_receipts.values())


def voucher(name="Membership fees 2026-W47 CLUB", amount="40.50", day=dt.date(2026, 11, 22)):
    return vouchers.build_memo_voucher(
        "CLUB",
        [vouchers.Allocation("CLUB", "3000", D(amount), (vouchers.DimensionRef(1, 13),))],
        receipt_date=day,
        clearing_account="1710",
        name=name,
    )


def invoice(number="2026-0001", channel="EMAIL"):
    return example_invoice(number, channel)


# -- token -------------------------------------------------------------------------------------


def test_token_is_fetched_once_and_cached(sandbox, client):
    client.get_coa()
    client.get_dimensions()
    client.get_coa()
    assert len(requests_to(sandbox, "POST", "/oauth/token")) == 1


def test_token_is_renewed_before_it_expires():
    clock = Clock()
    state = SandboxState(clock=clock)
    with start_in_thread(state=state) as sandbox, client_for(sandbox, clock=clock) as client:
        client.get_coa()
        clock.now += 3600 - 61  # still outside the 60 s margin
        client.get_coa()
        assert len(requests_to(sandbox, "POST", "/oauth/token")) == 1
        clock.now += 2
        client.get_coa()
        assert len(requests_to(sandbox, "POST", "/oauth/token")) == 2
        assert not [r for r in state.requests if r[2] == 401]
    assert state.violations == []


def test_short_lived_tokens_are_kept_half_their_life():
    clock = Clock()
    state = SandboxState(clock=clock)
    state.token_lifetime = 10
    with start_in_thread(state=state) as sandbox, client_for(sandbox, clock=clock) as client:
        client.get_coa()
        clock.now += 4
        client.get_coa()
        clock.now += 2
        client.get_coa()
        assert len(requests_to(sandbox, "POST", "/oauth/token")) == 2
        assert not [r for r in state.requests if r[2] == 401]


def test_token_refused_by_the_api_is_renewed_once(sandbox, client):
    client.get_coa()
    sandbox.state.expire_tokens()
    assert client.get_coa()
    assert len(requests_to(sandbox, "POST", "/oauth/token")) == 2
    assert ("GET", "/coa", 401) in sandbox.state.requests


def test_token_that_never_works_ends_in_an_auth_error(sandbox, client):
    sandbox.state.token_lifetime = 0  # tokens are dead on arrival
    with pytest.raises(ProcountorAuthError) as caught:
        client.get_coa()
    assert caught.value.status == 401
    assert len(requests_to(sandbox, "POST", "/oauth/token")) == 2
    assert not caught.value.retryable


def test_revoked_api_key_ends_in_an_auth_error_naming_the_cause(sandbox, client):
    client.get_coa()
    del sandbox.state.api_users[DEFAULT_API_KEY]
    with pytest.raises(ProcountorAuthError) as caught:
        client.get_coa()
    assert caught.value.code == "INVALID_API_KEY"
    assert "INVALID_API_KEY" in str(caught.value)


def test_wrong_secret(sandbox):
    with client_for(sandbox, secret="wrong") as client, pytest.raises(ProcountorAuthError) as e:
        client.get_coa()
    assert e.value.code == "INVALID_CLIENT"


def test_clients_sharing_a_cache_log_in_once(sandbox):
    cache = TokenCache()
    with client_for(sandbox, token_cache=cache) as first:
        first.get_coa()
    with client_for(sandbox, token_cache=cache) as second:
        second.get_coa()
    assert len(requests_to(sandbox, "POST", "/oauth/token")) == 1


def test_a_token_refused_is_dropped_from_the_shared_cache(sandbox):
    cache = TokenCache()
    with client_for(sandbox, token_cache=cache) as first:
        first.get_coa()
    sandbox.state.expire_tokens()
    with client_for(sandbox, token_cache=cache) as second:
        second.get_coa()  # 401 with the cached token, then a new one
    with client_for(sandbox, token_cache=cache) as third:
        third.get_coa()  # takes the renewed token
    assert len(requests_to(sandbox, "POST", "/oauth/token")) == 2
    assert len([r for r in sandbox.state.requests if r[2] == 401]) == 1


def test_the_shared_cache_keeps_api_users_and_secrets_apart(sandbox):
    cache = TokenCache()
    with client_for(sandbox, token_cache=cache) as full:
        full.get_coa()
    with client_for(sandbox, LEAST_PRIVILEGE_API_KEY, token_cache=cache) as least:
        least.get_coa()
    with client_for(sandbox, secret="wrong", token_cache=cache) as wrong:
        with pytest.raises(ProcountorAuthError):
            wrong.get_coa()
    assert len(requests_to(sandbox, "POST", "/oauth/token")) == 3


def test_cached_tokens_expire_on_the_shared_clock():
    clock = Clock()
    cache = TokenCache()
    state = SandboxState(clock=clock)
    with start_in_thread(state=state) as sandbox:
        with client_for(sandbox, clock=clock, token_cache=cache) as first:
            first.get_coa()
        clock.now += 3600 - 59  # inside the renewal margin
        with client_for(sandbox, clock=clock, token_cache=cache) as second:
            second.get_coa()
        assert len(requests_to(sandbox, "POST", "/oauth/token")) == 2
        assert not [r for r in state.requests if r[2] == 401]


def test_credentials_do_not_show_secrets():
    text = repr(Credentials("id", "the-secret", "the-key"))
    assert "the-secret" not in text and "the-key" not in text


# -- retries -----------------------------------------------------------------------------------


def test_429_is_retried_honouring_retry_after(sandbox):
    waits = Waits()
    sandbox.faults.rate_limit(2, retry_after=3, path="/coa")
    with client_for(sandbox, sleep=waits) as client:
        assert client.get_coa()
    assert waits.waits == [3, 3]
    assert [r[2] for r in requests_to(sandbox, "GET", "/coa")] == [429, 429, 200]


def test_retry_after_as_http_date(sandbox):
    waits = Waits()
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=30)
    sandbox.faults.rate_limit(1, retry_after=email.utils.format_datetime(later), path="/coa")
    with client_for(sandbox, sleep=waits) as client:
        client.get_coa()
    assert len(waits.waits) == 1 and 25 < waits.waits[0] <= 30


def test_429_on_a_post_is_retried_too(sandbox):
    # 429 means "not done", so even a create may be sent again.
    waits = Waits()
    sandbox.faults.rate_limit(1, retry_after=0, method="POST", path="/ledgerreceipts")
    with client_for(sandbox, sleep=waits) as client:
        client.create_ledger_receipt(voucher())
    assert len(receipts(sandbox)) == 1 and waits.waits == [0]


def test_persistent_429_gives_up_with_a_rate_limit_error(sandbox):
    waits = Waits()
    sandbox.faults.rate_limit(10, retry_after=1, path="/coa")
    with client_for(sandbox, sleep=waits) as client, pytest.raises(ProcountorRateLimitedError) as e:
        client.get_coa()
    assert waits.waits == [1, 1, 1]  # four tries
    assert e.value.status == 429 and e.value.retryable


def test_too_long_retry_after_gives_up_at_once(sandbox):
    waits = Waits()
    sandbox.faults.rate_limit(1, retry_after=600, path="/coa")
    with client_for(sandbox, sleep=waits) as client, pytest.raises(ProcountorRateLimitedError):
        client.get_coa()
    assert waits.waits == []


def test_500_is_retried_with_exponential_backoff(sandbox):
    waits = Waits()
    sandbox.faults.server_error(3, path="/coa")
    with client_for(sandbox, sleep=waits) as client:
        assert client.get_coa()
    assert waits.waits == [1.0, 2.0, 4.0]


def test_persistent_500_gives_up_as_unavailable(sandbox):
    waits = Waits()
    sandbox.faults.server_error(10, status=502, path="/dimensions")
    policy = RetryPolicy(attempts=3, backoff=0.5, max_backoff=0.75)
    with client_for(sandbox, sleep=waits, retry=policy) as client:
        with pytest.raises(ProcountorUnavailableError) as caught:
            client.get_dimensions()
    assert waits.waits == [0.5, 0.75]
    assert caught.value.status == 502 and caught.value.retryable


def test_read_timeout_on_a_read_is_retried(sandbox):
    waits = Waits()
    sandbox.faults.slow(2.0, path="/coa")
    with client_for(sandbox, sleep=waits, timeout=SHORT_TIMEOUT) as client:
        assert client.get_coa()
    assert waits.waits == [1.0]


def test_unreachable_server_is_unavailable_even_for_a_create():
    handle = start_in_thread()
    waits = Waits()
    with client_for(handle, timeout=SHORT_TIMEOUT, sleep=waits) as client:
        client.get_coa()  # token in hand, connection kept alive
        handle.stop()
        with pytest.raises(ProcountorUnavailableError) as caught:
            client.create_ledger_receipt(voucher())
    # Connection refused: the request never left, so the create was safely tried again.
    assert not isinstance(caught.value, ProcountorUnknownOutcomeError)
    assert waits.waits == [1.0, 2.0, 4.0]


# -- creates that must not happen twice --------------------------------------------------------


def test_create_is_never_repeated_after_a_timeout(sandbox):
    sandbox.faults.store_then_timeout(2.0)
    with client_for(sandbox, timeout=SHORT_TIMEOUT) as client:
        with pytest.raises(ProcountorUnknownOutcomeError) as caught:
            client.create_ledger_receipt(voucher())
    assert caught.value.timed_out and caught.value.retryable
    assert len(requests_to(sandbox, "POST", "/ledgerreceipts")) == 1
    assert len(receipts(sandbox)) == 1


def test_create_once_after_a_timeout_finds_the_stored_voucher(sandbox):
    waits = Waits()
    sandbox.faults.store_then_timeout(2.0)
    with client_for(sandbox, timeout=SHORT_TIMEOUT, sleep=waits, settle_seconds=3) as client:
        result = client.create_ledger_receipt_once(voucher())
    stored = receipts(sandbox)
    assert len(stored) == 1
    assert (result.created, result.id) == (False, stored[0]["id"])
    assert result.record["name"] == "Membership fees 2026-W47 CLUB"
    assert waits.waits == [3]  # settled before looking the voucher up


def test_create_once_after_a_500_looks_up_then_creates_exactly_one(sandbox):
    waits = Waits()
    sandbox.faults.server_error(1, method="POST", path="/ledgerreceipts")
    with client_for(sandbox, sleep=waits) as client:
        result = client.create_ledger_receipt_once(voucher())
    assert result.created
    assert len(receipts(sandbox)) == 1
    assert [r[2] for r in requests_to(sandbox, "POST", "/ledgerreceipts")] == [500, 200]
    assert waits.waits == [1.0]


def test_plain_create_reports_a_500_as_unknown_outcome(sandbox, client):
    sandbox.faults.server_error(1, method="POST", path="/ledgerreceipts")
    with pytest.raises(ProcountorUnknownOutcomeError) as caught:
        client.create_ledger_receipt(voucher())
    assert not caught.value.timed_out and caught.value.status == 500


def test_create_once_is_safe_to_run_twice(sandbox, client):
    first = client.create_ledger_receipt_once(voucher())
    second = client.create_ledger_receipt_once(voucher())
    assert first.created and not second.created
    assert first.id == second.id and len(receipts(sandbox)) == 1


def test_create_once_gives_up_when_the_outcome_stays_open(sandbox):
    sandbox.faults.server_error(10, method="POST", path="/ledgerreceipts")
    with client_for(sandbox) as client, pytest.raises(ProcountorUnknownOutcomeError):
        client.create_ledger_receipt_once(voucher())
    assert len(requests_to(sandbox, "POST", "/ledgerreceipts")) == 4
    assert receipts(sandbox) == []


def test_create_once_matches_the_exact_name_only(sandbox, client):
    client.create_ledger_receipt(voucher(name="Membership fees 2026-W47 CLUB1"))
    result = client.create_ledger_receipt_once(voucher(name="Membership fees 2026-W47 CLUB"))
    assert result.created and len(receipts(sandbox)) == 2
    assert client.find_ledger_receipt("Membership fees 2026-W47 CLUB1", "2026-11-22")
    assert client.find_ledger_receipt("Membership fees 2026-W47 CLUB1", "2026-11-23") is None


# -- errors ------------------------------------------------------------------------------------


def test_400_names_field_and_code(sandbox, client):
    too_long = {**voucher(), "name": "x" * 81}
    with pytest.raises(ProcountorValidationError) as caught:
        client.create_ledger_receipt(too_long)
    error = caught.value
    assert (error.status, error.field, error.code) == (400, "name", "TOO_LONG")
    assert "POST /ledgerreceipts" in str(error) and "name: TOO_LONG" in str(error)
    assert not error.retryable
    unbalanced = voucher()
    unbalanced["transactions"][0]["accountingValue"] += D("0.01")
    with pytest.raises(ProcountorValidationError) as caught:
        client.create_ledger_receipt(unbalanced)
    assert (caught.value.field, caught.value.code) == ("transactions", "RECEIPT_NOT_BALANCED")


def test_404(client):
    with pytest.raises(ProcountorNotFoundError):
        client.get_ledger_receipt(424242)


def test_approve_is_idempotent_for_the_caller(sandbox, client):
    created = client.create_ledger_receipt(voucher())
    assert client.approve_ledger_receipt(created["id"]) is True
    assert client.approve_ledger_receipt(created["id"]) is False
    assert client.get_ledger_receipt(created["id"])["status"] == "APPROVED"


def test_approve_is_not_repeated_blindly(sandbox, client):
    created = client.create_ledger_receipt(voucher())
    sandbox.faults.server_error(1, method="PUT", path="/ledgerreceipts")
    with pytest.raises(ProcountorUnknownOutcomeError):
        client.approve_ledger_receipt(created["id"])
    assert len(requests_to(sandbox, "PUT")) == 1
    assert client.get_ledger_receipt(created["id"])["status"] == "UNFINISHED"


# -- least privilege and "Test connection" -----------------------------------------------------


def test_least_privilege_user(sandbox):
    with client_for(sandbox, LEAST_PRIVILEGE_API_KEY) as client:
        assert client.get_coa()
        with pytest.raises(ProcountorPermissionError) as caught:
            client.get_dimensions()
        assert (caught.value.status, caught.value.code) == (403, "INSUFFICIENT_RIGHTS")
        assert client.create_ledger_receipt_once(voucher()).created
        with pytest.raises(ProcountorPermissionError):
            client.search_business_partners()
        report = client.probe_permissions()
    assert report.ok
    assert {f: a.allowed for f, a in report.features.items()} == {
        "coa": True,
        "dimensions": False,
        "ledgerreceipts": True,
        "invoices": False,
        "businesspartners": False,
    }
    assert "dimensions: denied (INSUFFICIENT_RIGHTS)" in report.lines()
    assert report.allowed("coa") and not report.allowed("invoices")


def test_probe_with_every_right_creates_nothing(sandbox, client):
    report = client.probe_permissions()
    assert report.ok and all(report.allowed(f) for f in report.features)
    assert all(
        method == "GET" for method, path, _ in sandbox.state.requests if path != "/oauth/token"
    )
    assert receipts(sandbox) == []


def test_probe_with_wrong_credentials(sandbox):
    with client_for(sandbox, secret="wrong") as client:
        report = client.probe_permissions()
    assert report.login.allowed is False and not report.ok
    assert "INVALID_CLIENT" in report.login.detail
    assert all(a.allowed is None for a in report.features.values())


def test_probe_when_procountor_is_down():
    handle = start_in_thread()
    handle.stop()
    with client_for(handle, timeout=SHORT_TIMEOUT) as client:
        report = client.probe_permissions()
    assert report.login.allowed is None and not report.ok


# -- paging ------------------------------------------------------------------------------------


def test_paging_collects_every_page(sandbox, client):
    ids = [client.create_ledger_receipt(voucher(name=f"V{n}"))["id"] for n in range(7)]
    found = client.search_ledger_receipts(size=3)
    assert [r["id"] for r in found] == ids  # ascending: new ones land on the last page
    assert len(requests_to(sandbox, "GET", "/ledgerreceipts")) == 3


def test_paging_stops_at_total_count(sandbox, client):
    for n in range(6):
        client.create_ledger_receipt(voucher(name=f"V{n}"))
    assert len(client.search_ledger_receipts(size=3)) == 6
    assert len(requests_to(sandbox, "GET", "/ledgerreceipts")) == 2
    page = client.get_page("/ledgerreceipts", {"orderById": "DESC"}, page=1, size=4)
    assert (page.page_number, page.result_count, page.total_count) == (1, 2, 6)
    with pytest.raises(ValueError):
        client.get_page("/ledgerreceipts", size=201)


def test_search_filters_reach_the_server(sandbox, client):
    client.create_ledger_receipt(voucher(name="Early", day=dt.date(2026, 11, 2)))
    late = client.create_ledger_receipt(voucher(name="Late", day=dt.date(2026, 11, 22)))
    client.approve_ledger_receipt(late["id"])
    names = [r["name"] for r in client.search_ledger_receipts(start_date=dt.date(2026, 11, 10))]
    assert names == ["Late"]
    names = [r["name"] for r in client.search_ledger_receipts(status="UNFINISHED")]
    assert names == ["Early"]


# -- three organisations, three Procountor environments ----------------------------------------


def test_weekly_vouchers_of_a_three_level_tree():
    state = SandboxState()
    for org in ("FED", "DIST", "CLUB"):
        state.add_environment(org)
        state.add_api_user(f"{org}-key", environment=org, permissions={"coa", "ledgerreceipts"})
    federation, district, club = (vouchers.DimensionRef(1, i) for i in (11, 12, 13))
    project = vouchers.DimensionRef(2, 21)
    allocations = [
        vouchers.Allocation("FED", "3060", D("20.00"), (federation, project)),
        vouchers.Allocation("DIST", "3050", D("10.00"), (district,)),
        vouchers.Allocation("CLUB", "3000", D("30.00"), (club, project)),
    ] * 3
    settlements = [vouchers.Settlement("CLUB", D("90.00"), "1910")]
    payloads = vouchers.build_memo_vouchers(
        allocations, settlements, receipt_date=dt.date(2026, 11, 22), clearing_accounts="1710"
    )
    with start_in_thread(state=state) as sandbox:
        for _run in range(2):  # the weekly job runs twice: nothing doubles
            for org, payload in payloads.items():
                with client_for(sandbox, f"{org}-key") as client:
                    client.create_ledger_receipt_once(copy.deepcopy(payload))
        for org in ("FED", "DIST", "CLUB"):
            (stored,) = receipts(sandbox, org)
            assert stored["name"] == f"Membership fees 2026-W47 {org}"
            assert sum(t["accountingValue"] for t in stored["transactions"]) == 0
        fed = receipts(sandbox, "FED")[0]["transactions"]
        assert [(t["account"], t["accountingValue"]) for t in fed] == [
            ("1710", D("60.00")),
            ("3060", D("-60.00")),
        ]
        assert {(d["dimensionId"], d["itemId"]) for d in fed[1]["dimensionItemValues"]} == {
            (1, 11),
            (2, 21),
        }
        club_rows = receipts(sandbox, "CLUB")[0]["transactions"]
        assert [t["account"] for t in club_rows] == ["1710", "3000", "1910", "1710"]
        assert receipts(sandbox, "default") == []
    assert state.violations == []


# -- invoices ----------------------------------------------------------------------------------


def test_invoice_flow_and_paid_status(sandbox, client):
    result = client.create_invoice_once(invoice())
    assert result.created and result.record["status"] == "UNFINISHED"
    assert not client.create_invoice_once(invoice()).created
    invoice_id = result.id
    assert client.approve_invoice(invoice_id) is True
    assert client.approve_invoice(invoice_id) is False
    client.send_invoice(invoice_id)
    assert client.get_invoice(invoice_id)["status"] == "SENT"
    assert client.find_invoice("2026-0001")["id"] == invoice_id

    sandbox.state.add_payment(invoice_id, D("20.00"))
    assert client.get_invoice(invoice_id)["status"] == "PARTLY_PAID"
    sandbox.state.add_payment(invoice_id, payment_date=dt.date(2026, 12, 1))
    paid = client.get_invoice(invoice_id)
    assert is_paid(paid["status"])
    events = client.get_invoice_payment_events(invoice_id)
    assert sorted(e["amount"] for e in events) == [D("20"), D("25")]
    assert {e["paymentDate"] for e in events} >= {"2026-12-01"}
    found = client.search_invoices(status=("PAID", "MARKED_PAID"))
    assert [i["id"] for i in found] == [invoice_id]


def test_invoice_create_once_survives_a_timeout(sandbox):
    sandbox.faults.store_then_timeout(2.0, path="/invoices")
    with client_for(sandbox, timeout=SHORT_TIMEOUT) as client:
        result = client.create_invoice_once(invoice("2026-0002"))
    assert not result.created
    assert len(sandbox.state.environment().invoices) == 1


def test_invoice_create_once_needs_our_number(client):
    payload = invoice()
    del payload["originalInvoiceNumber"]
    with pytest.raises(ValueError):
        client.create_invoice_once(payload)


def test_send_is_never_repeated_blindly(sandbox):
    with client_for(sandbox, timeout=SHORT_TIMEOUT) as client:
        invoice_id = client.create_invoice(invoice())["id"]
        client.approve_invoice(invoice_id)
        sandbox.faults.store_then_timeout(2.0, method="PUT", path="/invoices/")
        with pytest.raises(ProcountorUnknownOutcomeError):
            client.send_invoice(invoice_id)
        assert client.get_invoice(invoice_id)["status"] == "SENT"
    assert sandbox.state.environment().sent == {invoice_id: 1}


def test_invoice_400_names_the_field(client):
    with pytest.raises(ProcountorValidationError) as caught:
        client.create_invoice(invoice(channel="PAPER_INVOICE"))
    assert (caught.value.field, caught.value.code) == ("invoiceChannel", "INVALID_INVOICE_CHANNEL")


# -- business partners -------------------------------------------------------------------------


def test_channel_change_is_seen_by_version_polling():
    state = SandboxState(seed_partners=False)
    old = dt.datetime(2026, 1, 5, 12, 0)
    maija = state.add_business_partner("Maija Meikäläinen", customer_number="M-1001", version=old)
    state.add_business_partner("Matti Virtanen", customer_number="M-1002", version=old)
    last_sync = dt.datetime(2026, 3, 1)
    with start_in_thread(state=state) as sandbox, client_for(sandbox) as client:
        assert client.search_business_partners(version_start=last_sync) == []
        # The member orders e-invoices in the bank; Procountor updates the register.
        state.set_invoicing_channel(
            maija["id"],
            "ELECTRONIC_INVOICE",
            einvoice_address="FI7429501800000014",
            einvoice_operator="NDEAFIHH",
        )
        changed = client.search_business_partners(version_start=last_sync)
        assert [p["invoicingInfo"]["customerNumber"] for p in changed] == ["M-1001"]
        full = client.get_business_partner(changed[0]["id"])
        assert full["invoicingInfo"]["invoiceChannel"] == "ELECTRONIC_INVOICE"
        assert full["invoicingInfo"]["einvoiceAddress"] == "FI7429501800000014"
        assert len(client.search_business_partners()) == 2
        by_number = client.search_business_partners(customer_number="M-1002")
        assert [p["name"] for p in by_number] == ["Matti Virtanen"]
        by_name = client.search_business_partners(name="Meikäläinen")
        assert [p["id"] for p in by_name] == [maija["id"]]
    assert state.violations == []
