# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The REST and the SOAP adapter, end to end over real HTTP against the sandbox agency.

Every scenario runs for both protocols: the adapters must behave the same.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import socket
import time
from decimal import Decimal

import pytest

from nordic_billing.collection import (
    AgencyAuthError,
    AgencyConflict,
    AgencyNotFound,
    AgencyUnavailable,
    AgencyUnknownOutcome,
    AgencyValidationError,
    CaseRef,
    Claim,
    Debtor,
    ExampleAgencyRestAdapter,
    RestAgencyAdapter,
    SoapAgencyAdapter,
)
from nordic_billing.sandbox.agency import DEFAULT_API_KEY, start_in_thread

ADAPTERS = {"rest": RestAgencyAdapter, "soap": SoapAgencyAdapter}


@pytest.fixture(scope="module")
def sandbox():
    handle = start_in_thread()
    yield handle
    handle.stop()


@pytest.fixture
def agency(sandbox):
    sandbox.state.reset()
    sandbox.faults.reset()
    sandbox.faults.hang_seconds = 1.0
    yield sandbox
    sandbox.faults.reset()  # cuts short requests still hanging on purpose
    assert sandbox.wait_idle()


@pytest.fixture(params=sorted(ADAPTERS))
def protocol(request) -> str:
    return request.param


@pytest.fixture
def make_adapter(agency, protocol):
    made = []

    def make(base_url: str = "", **overrides):
        options = {
            "api_key": DEFAULT_API_KEY,
            "timeout": 0.3,
            "connect_timeout": 0.3,
            "max_retries": 2,
            "backoff": 0.01,
            **overrides,
        }
        adapter = ADAPTERS[protocol](base_url or agency.url, **options)
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        adapter.close()


@pytest.fixture
def adapter(make_adapter):
    return make_adapter()


def debtor(**changes) -> Debtor:
    data = {
        "type": "person",
        "name": "Maija Meikäläinen",
        "id_number": "131052-308T",
        "address_lines": ("Mannerheimintie 1 A 2",),
        "zip": "00100",
        "city": "Helsinki",
        "country": "FI",
        "email": "maija@example.fi",
        "phone": "+358401234567",
    }
    data.update(changes)
    return Debtor(**data)


def claim(key: str = "1/INV-2026-0001", **changes) -> Claim:
    data = {
        "external_key": key,
        "invoice_number": key.rsplit("/", 1)[-1],
        "invoice_date": dt.date(2026, 1, 2),
        "due_date": dt.date(2026, 1, 16),
        "original_amount": Decimal("120.00"),
        "outstanding_amount": Decimal("100.00"),
        "currency": "EUR",
        "reference": "RF18539007547034",
        "reminder_fees": Decimal("5.00"),
        "interest": Decimal("1.25"),
        "last_reminder_date": dt.date(2026, 2, 1),
    }
    data.update(changes)
    return Claim(**data)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- happy paths


def test_ping(adapter, agency, protocol):
    adapter.ping()
    assert agency.state.count("ping", protocol) == 1


def test_create_then_duplicate_create_returns_the_same_case(adapter, agency):
    case = adapter.create_case(debtor(), claim())
    assert case == CaseRef(case.case_number, "open", "1/INV-2026-0001")

    again = adapter.create_case(debtor(), claim())

    assert again == case
    assert len(agency.state.cases) == 1
    assert agency.state.count("create_case") == 1  # the second one stopped at the lookup
    assert adapter.find_case("1/INV-2026-0001") == case
    assert adapter.find_case("1/INV-unknown") is None


def test_case_carries_debtor_and_claim(adapter, agency, protocol):
    adapter.create_case(debtor(), claim())

    stored = next(iter(agency.state.cases.values()))
    assert stored.debtor["name"] == "Maija Meikäläinen"
    assert stored.debtor["address_lines"] == ["Mannerheimintie 1 A 2"]
    assert stored.debtor["id_number"] == "131052-308T"
    assert stored.claim["reference"] == "RF18539007547034"
    assert Decimal(stored.claim["outstanding_amount"]) == Decimal("100.00")
    assert Decimal(stored.claim["reminder_fees"]) == Decimal("5.00")
    assert Decimal(stored.claim["interest"]) == Decimal("1.25")
    assert stored.claim["last_reminder_date"] == "2026-02-01"


def test_company_debtor_without_optional_fields(adapter):
    company = Debtor("company", "Esimerkki Oy", "1234567-8", ("PL 10",), "00101", "Espoo", "FI")
    plain = claim("1/INV-9", reference="", reminder_fees=0, interest=0, last_reminder_date=None)

    assert adapter.create_case(company, plain).status == "open"


def test_add_payment_is_idempotent_by_payment_id(adapter, agency):
    case = adapter.create_case(debtor(), claim())

    first = adapter.add_payment(case.case_number, Decimal("30.00"), dt.date(2026, 3, 1), "PAY-1")
    second = adapter.add_payment(case.case_number, Decimal("30.00"), dt.date(2026, 3, 1), "PAY-1")

    assert first.status == second.status == "open"
    stored = agency.state.cases[case.case_number]
    assert stored.payments == {"PAY-1": (Decimal("30.00"), "2026-03-01")}
    with pytest.raises(AgencyConflict, match="PAY-1 was recorded with amount 30.00"):
        adapter.add_payment(case.case_number, Decimal("31.00"), dt.date(2026, 3, 1), "PAY-1")


def test_payments_covering_the_principal_mark_the_case_paid(adapter):
    case = adapter.create_case(debtor(), claim())
    adapter.add_payment(case.case_number, Decimal("60.00"), dt.date(2026, 3, 1), "PAY-1")

    paid = adapter.add_payment(case.case_number, Decimal("40.00"), dt.date(2026, 3, 2), "PAY-2")
    reopened = adapter.add_payment(case.case_number, Decimal("-40.00"), dt.date(2026, 3, 3), "R-2")

    assert paid.status == "paid"
    assert reopened.status == "open"  # the second payment bounced


def test_payment_to_unknown_case(adapter):
    with pytest.raises(AgencyNotFound, match="C999999 does not exist"):
        adapter.add_payment("C999999", Decimal("1.00"), dt.date(2026, 3, 1), "PAY-1")


def test_cancel_is_idempotent_and_closes_the_case(adapter, agency):
    case = adapter.create_case(debtor(), claim())

    closed = adapter.cancel_case(case.case_number, "credit note CN-7 for the whole invoice")
    again = adapter.cancel_case(case.case_number, "credit note CN-7 for the whole invoice")

    assert closed.status == again.status == "closed"
    assert agency.state.cases[case.case_number].message.startswith("cancelled: credit note CN-7")
    with pytest.raises(AgencyConflict, match="is closed"):
        adapter.add_payment(case.case_number, Decimal("1.00"), dt.date(2026, 3, 1), "PAY-9")


def test_paid_case_cannot_be_cancelled(adapter, agency):
    case = adapter.create_case(debtor(), claim())
    agency.state.advance(case.case_number, principal="100.00")

    with pytest.raises(AgencyConflict, match="is paid"):
        adapter.cancel_case(case.case_number, "credit note")


def test_updates_and_settlements(adapter, agency):
    start = dt.datetime.now(dt.timezone.utc)
    first = adapter.create_case(debtor(), claim("1/INV-1"))
    second = adapter.create_case(debtor(), claim("1/INV-2"))
    result = agency.state.advance(
        first.case_number,
        principal="100.00",
        interest="2.10",
        fees="5.00",
        costs="0",
        other="-12.50",
        date="2026-04-01",
    )
    agency.state.advance(second.case_number, status="returned", message="debtor deceased")

    updates = {u.case_number: u for u in adapter.list_updates(start)}
    lines = adapter.list_settlements(start)

    assert result["case"]["status"] == "paid"
    paid = updates[first.case_number]
    assert (paid.status, paid.collected_principal, paid.collected_interest) == (
        "paid",
        Decimal("100.00"),
        Decimal("2.10"),
    )
    assert (paid.collected_fees, paid.collected_costs) == (Decimal("5.00"), Decimal("0.00"))
    assert paid.external_key == "1/INV-1"
    assert paid.updated_at.tzinfo is not None
    returned = updates[second.case_number]
    assert (returned.status, returned.message) == ("returned", "debtor deceased")
    assert [(x.kind, x.amount) for x in lines] == [
        ("principal", Decimal("100.00")),
        ("interest", Decimal("2.10")),
        ("fees", Decimal("5.00")),
        ("other", Decimal("-12.50")),
    ]
    assert {x.remittance_id for x in lines} == {lines[0].remittance_id}
    assert len({x.line_id for x in lines}) == 4
    assert {x.date for x in lines} == {dt.date(2026, 4, 1)}
    assert {(x.case_number, x.currency, x.external_key) for x in lines} == {
        (first.case_number, "EUR", "1/INV-1")
    }


def test_since_is_inclusive_and_later_changes_only_come_once(adapter, agency):
    case = adapter.create_case(debtor(), claim())
    agency.state.advance(case.case_number, principal="10.00")
    [update] = adapter.list_updates()
    [line] = adapter.list_settlements()

    assert adapter.list_updates(update.updated_at) == [update]  # at `since`: included
    assert adapter.list_settlements(line.created_at) == [line]
    later = update.updated_at + dt.timedelta(microseconds=1)
    assert adapter.list_updates(later) == []
    assert adapter.list_settlements(line.created_at + dt.timedelta(microseconds=1)) == []


def test_polling_pages_through_everything(make_adapter, agency):
    adapter = make_adapter()
    adapter.page_limit = 2
    for number in range(5):
        case = adapter.create_case(debtor(), claim(f"1/INV-{number}"))
        agency.state.advance(case.case_number, principal="1.00", interest="0.10")

    updates = adapter.list_updates(None)
    lines = adapter.list_settlements(None)

    assert [u.external_key for u in updates] == [f"1/INV-{n}" for n in range(5)]
    assert len(lines) == 10 and len({x.line_id for x in lines}) == 10
    assert agency.state.count("list_updates") == 3  # pages of 2, 2, 1


def test_naive_since_is_taken_as_utc(adapter, agency):
    case = adapter.create_case(debtor(), claim())
    agency.state.advance(case.case_number, principal="10.00")
    [update] = adapter.list_updates()

    naive = update.updated_at.astimezone(dt.timezone.utc).replace(tzinfo=None)

    assert adapter.list_updates(naive) == [update]


# --------------------------------------------------------------------------- faults


def test_5xx_on_create_is_retried_without_a_duplicate_case(adapter, agency):
    agency.faults.fail_next(2, status=503, operation="create_case")

    case = adapter.create_case(debtor(), claim())

    assert len(agency.state.cases) == 1
    assert agency.state.count("create_case") == 3
    assert agency.state.count("find_case") == 3  # before the first send and after each failure
    assert adapter.find_case("1/INV-2026-0001") == case


def test_store_then_fail_is_resolved_by_lookup(adapter, agency):
    agency.faults.store_then_fail(1, mode="error", operation="create_case")

    case = adapter.create_case(debtor(), claim())

    assert case.case_number in agency.state.cases
    assert len(agency.state.cases) == 1
    assert agency.state.count("create_case") == 1  # not sent again: the lookup found it


def test_store_then_timeout_is_resolved_by_lookup(adapter, agency):
    agency.faults.store_then_fail(1, mode="timeout", operation="create_case")
    started = time.monotonic()

    case = adapter.create_case(debtor(), claim())

    assert time.monotonic() - started < agency.faults.hang_seconds
    assert len(agency.state.cases) == 1
    assert agency.state.count("find_case") == 2
    assert case.status == "open"


def test_slow_create_sent_again_still_makes_one_case(adapter, agency):
    """The first create outlives the client's timeout and is stored after the resend."""
    agency.faults.slow(0.6, n=1, operation="create_case")

    case = adapter.create_case(debtor(), claim())
    assert agency.wait_idle()  # the slow first request finishes at the agency

    assert len(agency.state.cases) == 1
    assert agency.state.calls[-1][1:] == ("create_case", 409)  # the late one was refused
    assert adapter.find_case("1/INV-2026-0001") == case


def test_unknown_outcome_when_the_lookup_fails_too(adapter, agency):
    agency.faults.store_then_fail(1, mode="error", operation="create_case")
    agency.faults.fail_next(10, status=503, operation="find_case", skip=1)

    with pytest.raises(AgencyUnknownOutcome, match="looked up before it is sent again"):
        adapter.create_case(debtor(), claim())
    agency.faults.reset()
    case = adapter.create_case(debtor(), claim())  # the next run finds the stored case

    assert len(agency.state.cases) == 1
    assert agency.state.count("create_case") == 1
    assert case.case_number in agency.state.cases


def test_reads_time_out_and_give_up_after_the_retries(make_adapter, agency):
    adapter = make_adapter(timeout=0.2, max_retries=1)
    agency.faults.slow(0.6, operation="ping")
    started = time.monotonic()

    with pytest.raises(AgencyUnavailable, match="timeout") as info:
        adapter.ping()

    assert time.monotonic() - started < 1.0
    assert info.value.retryable
    assert agency.state.count("ping") == 0  # the agency never finished answering


def test_payment_survives_5xx_and_429(adapter, agency):
    case = adapter.create_case(debtor(), claim())
    agency.faults.fail_next(2, status=429, operation="add_payment")

    adapter.add_payment(case.case_number, Decimal("5.00"), dt.date(2026, 3, 1), "PAY-1")
    agency.faults.store_then_fail(1, operation="add_payment")
    adapter.add_payment(case.case_number, Decimal("6.00"), dt.date(2026, 3, 1), "PAY-2")

    assert set(agency.state.cases[case.case_number].payments) == {"PAY-1", "PAY-2"}


@pytest.mark.parametrize("form", ["seconds", "http date"])
def test_retry_after_of_the_agency_is_read_in_both_forms(make_adapter, agency, form):
    """A 429 or 503 with ``Retry-After``, as seconds or as an HTTP date: the error carries the
    wait, which the adapter's backoff and the sync's rescheduling honour."""
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=90)
    header = "90" if form == "seconds" else email.utils.format_datetime(later, usegmt=True)
    adapter = make_adapter(max_retries=0)
    for status in (429, 503):
        agency.faults.fail_next(1, status=status, operation="ping", retry_after=header)

        with pytest.raises(AgencyUnavailable) as caught:
            adapter.ping()

        assert caught.value.status_code == status
        assert 85 <= caught.value.retry_after <= 90
    agency.faults.fail_next(1, status=503, operation="ping")  # no header: the own backoff
    with pytest.raises(AgencyUnavailable) as caught:
        adapter.ping()
    assert caught.value.retry_after == 0


def test_payment_with_unknown_outcome(adapter, agency):
    case = adapter.create_case(debtor(), claim())
    agency.faults.store_then_fail(5, operation="add_payment")

    with pytest.raises(AgencyUnknownOutcome):
        adapter.add_payment(case.case_number, Decimal("5.00"), dt.date(2026, 3, 1), "PAY-1")

    agency.faults.reset()
    adapter.add_payment(case.case_number, Decimal("5.00"), dt.date(2026, 3, 1), "PAY-1")
    assert agency.state.cases[case.case_number].payments == {
        "PAY-1": (Decimal("5.00"), "2026-03-01")
    }


def test_validation_error_carries_the_agencys_message(adapter, agency):
    bad = claim(outstanding_amount=Decimal("130.00"))

    with pytest.raises(AgencyValidationError) as info:
        adapter.create_case(debtor(), bad)

    assert info.value.message == "claim.outstanding_amount: is larger than the original amount"
    assert info.value.field == "claim.outstanding_amount"
    assert not info.value.retryable
    assert agency.state.count("create_case") == 1  # never retried
    assert agency.state.cases == {}


def test_missing_address_is_refused(adapter):
    with pytest.raises(AgencyValidationError, match="AddressLine|address"):
        adapter.create_case(debtor(address_lines=()), claim())


def test_wrong_api_key(make_adapter, agency):
    adapter = make_adapter(api_key="not-the-key")

    with pytest.raises(AgencyAuthError, match="credentials"):
        adapter.ping()
    with pytest.raises(AgencyAuthError):
        adapter.create_case(debtor(), claim())

    assert agency.state.count("ping") == 1  # a 401 is not retried
    assert agency.state.cases == {}


def test_bearer_token(make_adapter):
    make_adapter(auth_type="bearer").ping()


def test_agency_down(make_adapter):
    adapter = make_adapter(base_url=f"http://127.0.0.1:{free_port()}", max_retries=1)

    with pytest.raises(AgencyUnavailable) as ping:
        adapter.ping()
    with pytest.raises(AgencyUnavailable) as payment:  # nothing was sent: not "unknown"
        adapter.add_payment("C000001", Decimal("1.00"), dt.date(2026, 3, 1), "PAY-1")

    assert not ping.value.maybe_sent
    assert not payment.value.maybe_sent


def test_bad_arguments_fail_before_any_call(adapter, agency):
    with pytest.raises(ValueError, match="zero"):
        adapter.add_payment("C000001", Decimal("0"), dt.date(2026, 3, 1), "PAY-1")
    with pytest.raises(ValueError, match="payment_id"):
        adapter.add_payment("C000001", Decimal("1"), dt.date(2026, 3, 1), "")
    assert not agency.state.calls


# --------------------------------------------------------------------------- a concrete agency


def test_example_agency_is_one_small_class():
    with (
        start_in_thread(rest_prefix="/api/collection/v1", key_header="X-Example-Key") as other,
        ExampleAgencyRestAdapter(other.url, api_key=DEFAULT_API_KEY, timeout=1) as adapter,
        RestAgencyAdapter(other.url, api_key=DEFAULT_API_KEY, max_retries=0) as generic,
    ):
        case = adapter.create_case(debtor(), claim())
        adapter.add_payment(case.case_number, Decimal("1.00"), dt.date(2026, 3, 1), "PAY-1")

        assert adapter.create_case(debtor(), claim()) == case
        assert other.state.count("create_case", "rest") == 1
        with pytest.raises(AgencyNotFound):  # the generic path does not exist at this agency
            generic.ping()
