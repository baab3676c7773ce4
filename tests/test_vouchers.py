# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime as dt
import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nordic_billing.openapi import Contract
from nordic_billing.vouchers import (
    Allocation,
    DimensionRef,
    RowTrace,
    Settlement,
    build_memo_voucher,
    build_memo_voucher_traced,
    build_memo_vouchers,
    gross_balance,
    voucher_name,
)

D = Decimal
DAY = dt.date(2026, 11, 22)  # Sunday of ISO week 2026-W47
CLUB = DimensionRef(1, 13)
MEMBERSHIP = DimensionRef(2, 21)


def fee(amount, account="3000", dims=(CLUB,), org="CLUB", **kwargs):
    return Allocation(org, account, D(amount), tuple(dims), **kwargs)


def build(allocations, settlements=(), **kwargs):
    kwargs.setdefault("receipt_date", DAY)
    kwargs.setdefault("clearing_account", "1710")
    return build_memo_voucher("CLUB", allocations, settlements, **kwargs)


def rows(payload):
    return [(t["account"], t["accountingValue"]) for t in payload["transactions"]]


def assert_valid(payload):
    assert Contract.packaged().validate(payload, "LedgerReceipt") == []
    assert sum(t["accountingValue"] for t in payload["transactions"]) == 0


def test_fees_debit_clearing_and_credit_income_with_dimensions():
    payload = build([fee("25.00"), fee("15.50"), fee("10.00", dims=(CLUB, MEMBERSHIP))])
    assert_valid(payload)
    assert payload["type"] == "JOURNAL"
    assert payload["name"] == "Membership fees 2026-W47 CLUB"
    assert payload["receiptDate"] == "2026-11-22"
    assert (payload["vatType"], payload["vatStatus"]) == ("SALES", 12)
    assert rows(payload) == [("1710", D("50.50")), ("3000", D("-40.50")), ("3000", D("-10.00"))]
    income = payload["transactions"][1]
    assert income["dimensionItemValues"] == [{"dimensionId": 1, "itemId": 13, "value": D("-40.50")}]
    assert (income["vatStatus"], income["vatPercent"]) == (12, 0)
    both = payload["transactions"][2]["dimensionItemValues"]
    assert [(d["dimensionId"], d["itemId"], d["value"]) for d in both] == [
        (1, 13, D("-10.00")),
        (2, 21, D("-10.00")),
    ]
    assert "dimensionItemValues" not in payload["transactions"][0]


def test_settlements_debit_bank_and_credit_clearing():
    payload = build(
        [fee("40.00")],
        [
            Settlement("CLUB", D("30.00"), "1910", "Payout 2026-W47"),
            Settlement("CLUB", D("5.00"), "1911"),
        ],
    )
    assert_valid(payload)
    assert rows(payload) == [
        ("1710", D("40.00")),
        ("3000", D("-40.00")),
        ("1910", D("30.00")),
        ("1911", D("5.00")),
        ("1710", D("-35.00")),
    ]
    assert payload["transactions"][2]["description"] == "Payout 2026-W47"
    assert payload["transactions"][3]["description"] == "Settlement paid out"


def test_settlement_only_voucher():
    payload = build([], [Settlement("CLUB", D("12.00"), "1910")])
    assert_valid(payload)
    assert rows(payload) == [("1910", D("12.00")), ("1710", D("-12.00"))]


def test_credit_notes_are_rows_of_their_own_not_netted_into_the_fees():
    payload = build(
        [
            fee("20.00", description="Adult fee"),
            fee("-20.00", description="Adult fee"),
            fee("30.00", account="3010"),
            fee("-5.00", account="3010"),
            fee("0.00", account="3020"),
        ]
    )
    assert_valid(payload)
    assert rows(payload) == [
        ("1710", D("25.00")),
        ("3000", D("-20.00")),
        ("3000", D("20.00")),
        ("3010", D("-30.00")),
        ("3010", D("5.00")),
    ]
    texts = [t["description"] for t in payload["transactions"]]
    assert texts[1:3] == ["Adult fee", "Credit notes: Adult fee"]
    assert texts[4] == "Credit notes"


def test_service_fee_is_its_own_row_and_fees_less_bank_is_the_fee():
    payload = build(
        [fee("40.00"), fee("-4.00")],
        [Settlement("CLUB", D("34.50"), "1910", "S0001", D("1.50"), "7850")],
    )
    assert_valid(payload)
    assert rows(payload) == [
        ("1710", D("36.00")),
        ("3000", D("-40.00")),
        ("3000", D("4.00")),
        ("1910", D("34.50")),
        ("7850", D("1.50")),
        ("1710", D("-36.00")),
    ]
    assert payload["transactions"][4]["description"] == "Service fee S0001"
    income = sum(t["accountingValue"] for t in payload["transactions"] if t["account"] == "3000")
    assert -income - D("34.50") == D("1.50")
    with pytest.raises(ValueError, match="service fee account"):
        build([], [Settlement("CLUB", D("34.50"), "1910", service_fee=D("1.50"))])


def test_each_row_says_which_allocations_and_settlements_it_sums():
    payload, traces = build_memo_voucher_traced(
        "CLUB",
        [
            fee("10.00", refs=(3,)),
            fee("15.00", refs=(1, 2)),
            fee("-10.00", refs=(4,)),
            fee("5.00", account="3010", refs=(5,)),
        ],
        [
            Settlement("CLUB", D("5.00"), "1910", service_fee_account="7850", refs=(8,)),
            Settlement("CLUB", D("4.00"), "1910", "x", D("1.00"), "7850", refs=(9,)),
        ],
        receipt_date=DAY,
        clearing_account="1710",
    )
    assert rows(payload) == [
        ("1710", D("20.00")),
        ("3000", D("-25.00")),
        ("3000", D("10.00")),
        ("3010", D("-5.00")),
        ("1910", D("9.00")),
        ("7850", D("1.00")),
        ("1710", D("-10.00")),
    ]
    assert traces == [
        RowTrace(allocations=(1, 2, 3, 4, 5)),
        RowTrace(allocations=(1, 2, 3)),
        RowTrace(allocations=(4,)),
        RowTrace(allocations=(5,)),
        RowTrace(settlements=(8, 9)),
        RowTrace(settlements=(9,)),
        RowTrace(settlements=(8, 9)),
    ]
    assert build_memo_voucher_traced(
        "CLUB", [fee("0.00")], receipt_date=DAY, clearing_account="1710"
    ) == (None, [])


def test_same_rows_in_any_order_give_the_same_payload():
    allocations = [
        fee(f"{n}.{n:02d}", account=account, dims=dims)
        for n, (account, dims) in enumerate(
            [("3000", (CLUB,)), ("3010", ()), ("3000", (MEMBERSHIP, CLUB)), ("3020", (CLUB,))] * 5,
            start=1,
        )
    ]
    first = build(allocations)
    shuffled = allocations[:]
    random.Random(4).shuffle(shuffled)
    assert build(shuffled) == first
    assert_valid(first)


def test_row_descriptions_are_merged_and_clipped():
    payload = build([fee("1.00", description="Adult fee"), fee("2.00", description="Adult fee")])
    assert payload["transactions"][1]["description"] == "Adult fee"
    payload = build([fee("1.00", description="a" * 200), fee("2.00", description="b" * 200)])
    text = payload["transactions"][1]["description"]
    assert len(text) == 255 and text.endswith("\u2026")
    assert_valid(payload)


def test_vat_rows_are_booked_net():
    payload = build([fee("125.50", account="3100", dims=(), vat_status=1, vat_percent=D("25.5"))])
    assert rows(payload) == [("1710", D("125.50")), ("3100", D("-100.00"))]
    income = payload["transactions"][1]
    assert (income["vatStatus"], income["vatPercent"]) == (1, D("25.5"))
    assert gross_balance(payload["transactions"]) == 0
    assert Contract.packaged().validate(payload, "LedgerReceipt") == []


@given(st.integers(min_value=1, max_value=10_000_000))
@settings(max_examples=300, deadline=None)
def test_vat_rows_balance_to_the_cent(cents):
    gross = D(cents) / 100
    payload = build([fee(str(gross), vat_status=1, vat_percent=D("25.5"))])
    assert abs(gross_balance(payload["transactions"])) <= D("0.01")


def test_name_is_iso_week_and_fits_80_characters():
    assert voucher_name("CLUB", 2026, 1) == "Membership fees 2026-W01 CLUB"
    # 1 January 2027 is a Friday of ISO week 2026-W53.
    assert build([fee("1.00")], receipt_date=dt.date(2027, 1, 1))["name"].endswith("2026-W53 CLUB")
    long_org = "C" * 60
    name = voucher_name(long_org, 2026, 47)
    assert len(name) == 80 and name.endswith(f"2026-W47 {long_org}")
    assert voucher_name("C" * 71, 2026, 47) == f"2026-W47 {'C' * 71}"
    with pytest.raises(ValueError):
        voucher_name("C" * 72, 2026, 47)
    with pytest.raises(ValueError):
        voucher_name("CLUB", 2026, 54)
    assert build([fee("1.00")], name="Own name")["name"] == "Own name"
    with pytest.raises(ValueError):
        build([fee("1.00")], name="x" * 81)


@pytest.mark.parametrize(
    ("rows_", "error"),
    [
        ([fee("1.00", org="OTHER")], ValueError),
        ([Allocation("CLUB", "3000", 1.5)], TypeError),
        ([fee("1.005")], ValueError),
        ([Allocation("CLUB", "3000", D("NaN"))], ValueError),
        ([fee("1.00", dims=(DimensionRef(1, 11), DimensionRef(1, 13)))], ValueError),
        ([fee("1.00", account="")], ValueError),
    ],
)
def test_bad_rows_are_refused(rows_, error):
    with pytest.raises(error):
        build(rows_)


def test_bad_settlements_and_clearing_are_refused():
    with pytest.raises(ValueError):
        build([], [Settlement("CLUB", D("1.00"), "")])
    with pytest.raises(ValueError):
        build([fee("1.00")], clearing_account="")


def test_three_level_tree_gives_one_balanced_voucher_per_organisation():
    # One member paid 60.00: the split rule gives the federation 20, the district 10 and the
    # club 30; each organisation books its share on its own income account and cost centre.
    federation, district, club = DimensionRef(1, 11), DimensionRef(1, 12), DimensionRef(1, 13)
    allocations = [
        Allocation("FED", "3060", D("20.00"), (federation, MEMBERSHIP)),
        Allocation("DIST", "3050", D("10.00"), (district,)),
        Allocation("CLUB", "3000", D("30.00"), (club, MEMBERSHIP)),
        Allocation("CLUB", "3000", D("30.00"), (club, MEMBERSHIP)),
    ]
    settlements = [Settlement("CLUB", D("60.00"), "1910")]
    vouchers = build_memo_vouchers(
        allocations,
        settlements,
        receipt_date=DAY,
        clearing_accounts={"FED": "1710", "DIST": "1711", "CLUB": "1710"},
    )
    assert list(vouchers) == ["CLUB", "DIST", "FED"]
    for org, payload in vouchers.items():
        assert_valid(payload)
        assert payload["name"] == f"Membership fees 2026-W47 {org}"
    assert rows(vouchers["FED"]) == [("1710", D("20.00")), ("3060", D("-20.00"))]
    assert rows(vouchers["DIST"]) == [("1711", D("10.00")), ("3050", D("-10.00"))]
    assert rows(vouchers["CLUB"]) == [
        ("1710", D("60.00")),
        ("3000", D("-60.00")),
        ("1910", D("60.00")),
        ("1710", D("-60.00")),
    ]
    items = {
        org: {(d["dimensionId"], d["itemId"]) for d in p["transactions"][1]["dimensionItemValues"]}
        for org, p in vouchers.items()
    }
    assert items == {"FED": {(1, 11), (2, 21)}, "DIST": {(1, 12)}, "CLUB": {(1, 13), (2, 21)}}
    same_account = build_memo_vouchers(allocations, receipt_date=DAY, clearing_accounts="1710")
    assert set(same_account) == {"CLUB", "DIST", "FED"}


cents = st.integers(min_value=-100_000, max_value=1_000_000).map(lambda c: D(c) / 100)
allocation_rows = st.lists(
    st.builds(
        lambda account, amount, dims: Allocation("CLUB", account, amount, dims),
        st.sampled_from(["3000", "3010", "3020"]),
        cents,
        st.sampled_from([(), (CLUB,), (MEMBERSHIP,), (CLUB, MEMBERSHIP)]),
    ),
    max_size=40,
)
settlement_rows = st.lists(
    st.builds(
        lambda account, amount: Settlement("CLUB", amount, account),
        st.sampled_from(["1910", "1911"]),
        cents,
    ),
    max_size=5,
)


@given(allocation_rows, settlement_rows)
@settings(max_examples=200, deadline=None)
def test_any_rows_give_an_exactly_balanced_valid_voucher(allocations, settlements):
    payload = build(allocations, settlements)
    if payload is None:
        assert all(not a.amount for a in allocations)
        assert all(not s.amount for s in settlements)
        return
    assert_valid(payload)
    income = [t for t in payload["transactions"] if t["account"].startswith("3")]
    assert sum(t["accountingValue"] for t in income) == -sum(a.amount for a in allocations)
    for row in payload["transactions"]:
        assert row["accountingValue"] != 0
        for item in row.get("dimensionItemValues", []):
            assert item["value"] == row["accountingValue"]
    groups = [
        (
            t["account"],
            tuple((d["dimensionId"], d["itemId"]) for d in t.get("dimensionItemValues", [])),
            t["accountingValue"] > 0,
        )
        for t in income
    ]
    assert len(groups) == len(set(groups))  # one row per account, items, fee or credit
    credited = -sum(a.amount for a in allocations if a.amount > 0)
    assert sum(t["accountingValue"] for t in income if t["accountingValue"] < 0) == credited


def test_week_of_a_day_runs_monday_to_sunday():
    from nordic_billing.vouchers import week_of

    assert week_of(DAY) == (2026, 47, dt.date(2026, 11, 16), DAY)
    assert week_of(dt.date(2026, 11, 16)) == (2026, 47, dt.date(2026, 11, 16), DAY)
    # ISO years: 1 January 2027 is a Friday of week 2026-W53.
    assert week_of(dt.date(2027, 1, 1))[:2] == (2026, 53)


def test_previous_week_is_the_last_full_week():
    from nordic_billing.vouchers import previous_week

    assert previous_week(dt.date(2026, 11, 23))[:2] == (2026, 47)  # a Monday
    assert previous_week(DAY)[:2] == (2026, 46)  # a Sunday: its own week is not over
    assert previous_week(dt.date(2027, 1, 4))[:2] == (2026, 53)
