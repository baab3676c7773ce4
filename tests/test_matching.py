# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Matching: one table test per rule, the edges between rules, and batch-level invariants."""

import datetime as dt
import gc
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nordic_billing.matching import (
    Decision,
    ItemAllocation,
    KnownPayment,
    MatchKind,
    OpenItem,
    match_payments,
)
from nordic_billing.payment import Payment
from nordic_billing.references import FI, RF

ACCOUNT = "FI2112345600000785"
D = Decimal


def payment(
    reference: str,
    amount: str,
    archive_id: str = "A1",
    *,
    correction: bool = False,
    account: str = ACCOUNT,
    line: str = "line 2",
) -> Payment:
    return Payment(
        account=account,
        archive_id=archive_id,
        reference=reference,
        amount=D(amount),
        currency="EUR",
        payment_date=dt.date(2026, 3, 2),
        booking_date=dt.date(2026, 3, 2),
        payer_name="MEIKALAINEN MATTI",
        is_correction=correction,
        source_format="ktl",
        source_line=line,
    )


def item(
    item_id: int,
    reference: str,
    amount: str,
    due: str = "2026-03-01",
    *,
    partner: int | None = 7,
    invoice_date: str | None = None,
) -> OpenItem:
    return OpenItem(
        item_id=item_id,
        reference=reference,
        open_amount=D(amount),
        partner_id=partner,
        due_date=dt.date.fromisoformat(due),
        invoice_date=dt.date.fromisoformat(invoice_date) if invoice_date else None,
    )


def allocations(decision: Decision) -> list[tuple[object, Decimal]]:
    return [(a.item_id, a.amount) for a in decision.allocations]


def one(pay: Payment, items: list[OpenItem], **kwargs) -> Decision:
    (decision,) = match_payments([pay], items, **kwargs)
    return decision


REF = "2024000068"  # Finnish national reference of base 202400006
OTHER = "13013"


# --- one payment, one rule -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "amount", "kind", "allocated", "unapplied"),
    [
        (REF, "60.00", MatchKind.EXACT, [(1, D("60.00"))], D(0)),
        ("00000000002024000068", "60.00", MatchKind.EXACT, [(1, D("60.00"))], D(0)),  # KTL padding
        ("20240 00068", "60.00", MatchKind.EXACT, [(1, D("60.00"))], D(0)),  # printed form
        (RF.make(REF), "60.00", MatchKind.EXACT, [(1, D("60.00"))], D(0)),  # RF around it
        (REF, "25.00", MatchKind.PARTIAL, [(1, D("25.00"))], D(0)),
        (REF, "75.50", MatchKind.OVERPAYMENT, [(1, D("60.00"))], D("15.50")),
        ("", "60.00", MatchKind.UNREFERENCED, [], D("60.00")),
        (FI.make("202400007"), "60.00", MatchKind.UNKNOWN_REFERENCE, [], D("60.00")),
        ("2024000069", "60.00", MatchKind.INVALID_REFERENCE, [], D("60.00")),
        ("RF962024000071", "60.00", MatchKind.INVALID_REFERENCE, [], D("60.00")),
        ("LASKU 123", "60.00", MatchKind.INVALID_REFERENCE, [], D("60.00")),
    ],
)
def test_single_payment_rules(reference, amount, kind, allocated, unapplied):
    decision = one(payment(reference, amount), [item(1, REF, "60.00"), item(2, OTHER, "10.00")])
    assert decision.kind is kind
    assert allocations(decision) == allocated
    assert decision.unapplied == unapplied
    assert decision.partner_id == (7 if allocated else None)
    assert decision.reason


def test_reasons_name_the_invoice_number():
    """An item with a label (its invoice number) is named by it, not by its internal id."""
    items = [replace(item(112, REF, "60.00"), label="INV/2026/00007")]
    assert one(payment(REF, "60"), items).reason == "Pays INV/2026/00007 in full."
    assert one(payment(REF, "25"), items).reason == (
        "Pays 25.00 of 60.00 open on INV/2026/00007; 35.00 stays open on INV/2026/00007."
    )
    two = [*items, replace(item(113, REF, "40.00", "2026-04-01"), label="INV/2026/00008")]
    assert one(payment(REF, "100"), two).reason.startswith(
        "Pays INV/2026/00007 and INV/2026/00008 in full."
    )
    assert "112" not in one(payment(REF, "100"), two).reason


def test_reasons_read_as_sentences():
    items = [item(1, REF, "60.00")]
    assert one(payment(REF, "60"), items).reason == "Pays open item 1 in full."
    assert one(payment(REF, "25"), items).reason == (
        "Pays 25.00 of 60.00 open on open item 1; 35.00 stays open on item 1."
    )
    assert one(payment(REF, "75.5"), items).reason == (
        "Pays open item 1 in full (60.00); 15.50 is left over."
    )
    assert one(payment("", "1"), items).reason == "The payment has no reference."
    assert one(payment("13013", "1"), items).reason == "No open item has reference 13013."
    assert one(payment("13014", "1"), items).reason == (
        "Reference 13014 is not valid as any of: Finnish reference, RF creditor reference "
        "(wrong check digit or form), and no open item has it."
    )


def test_national_payment_matches_an_item_with_an_rf_reference():
    rf_ref = "RF95 2024 0000 71"
    decision = one(payment("2024000071", "10"), [item(1, rf_ref, "10")])
    assert decision.kind is MatchKind.EXACT
    assert decision.reference_key == "2024000071"


def test_item_with_a_reference_that_fails_every_check_is_still_matched():
    decision = one(payment("INV/2026/0001", "10"), [item(1, "INV/2026/0001", "10")])
    assert decision.kind is MatchKind.EXACT


@pytest.mark.parametrize(
    ("kinds", "reference", "kind"),
    [
        (("kid10",), "123456782", MatchKind.UNKNOWN_REFERENCE),
        (("kid10",), "123456785", MatchKind.INVALID_REFERENCE),
        (("kid11",), "123456785", MatchKind.UNKNOWN_REFERENCE),
        (("ocr_len",), "1234574", MatchKind.UNKNOWN_REFERENCE),
        (("ocr_len",), "123455", MatchKind.INVALID_REFERENCE),
        ((), "anything", MatchKind.UNKNOWN_REFERENCE),
    ],
)
def test_reference_kinds_in_use_decide_invalid_or_unknown(kinds, reference, kind):
    decision = one(payment(reference, "10"), [item(1, REF, "60")], reference_kinds=kinds)
    assert decision.kind is kind
    assert decision.unapplied == D(10)


def test_unknown_reference_kind_is_refused():
    with pytest.raises(ValueError, match="Unknown reference kinds"):
        match_payments([], [], reference_kinds=("iban",))


@pytest.mark.parametrize("amount", ["0", "-5"])
def test_non_positive_amount_is_refused(amount):
    with pytest.raises(ValueError, match="line 2: a payment amount must be positive"):
        match_payments([payment(REF, amount)], [item(1, REF, "60")])


# --- several open items with one reference --------------------------------------------------------

SHARED = [  # given out of order on purpose: 11 is due first, then 12, then 10
    item(10, REF, "30.00", "2026-04-01"),
    item(11, REF, "20.00", "2026-02-01"),
    item(12, REF, "50.00", "2026-03-01", partner=7),
]


@pytest.mark.parametrize(
    ("amount", "kind", "allocated", "unapplied"),
    [
        ("20.00", MatchKind.EXACT, [(11, D("20.00"))], D(0)),
        ("70.00", MatchKind.EXACT, [(11, D("20.00")), (12, D("50.00"))], D(0)),
        ("45.00", MatchKind.PARTIAL, [(11, D("20.00")), (12, D("25.00"))], D(0)),
        ("10.00", MatchKind.PARTIAL, [(11, D("10.00"))], D(0)),
        ("100.00", MatchKind.EXACT, [(11, D(20)), (12, D(50)), (10, D(30))], D(0)),
        ("120.00", MatchKind.OVERPAYMENT, [(11, D(20)), (12, D(50)), (10, D(30))], D(20)),
    ],
)
def test_oldest_due_date_first_spilling_over(amount, kind, allocated, unapplied):
    decision = one(payment(REF, amount), SHARED)
    assert decision.kind is kind
    assert allocations(decision) == allocated
    assert decision.unapplied == unapplied
    if len(allocated) > 1:
        assert "oldest due date is paid first" in decision.reason


def test_same_due_date_goes_by_invoice_date_then_given_order():
    items = [
        item(1, REF, "10", "2026-03-01", invoice_date="2026-02-01"),
        item(2, REF, "10", "2026-03-01", invoice_date="2026-01-01"),
        item(3, REF, "10", "2026-03-01"),  # no invoice date: counts as its due date
        item(4, REF, "10", "2026-03-01", invoice_date="2026-02-01"),
    ]
    decision = one(payment(REF, "40"), items)
    assert [a.item_id for a in decision.allocations] == [2, 1, 4, 3]


def test_items_of_several_partners_give_no_partner():
    items = [item(1, REF, "10", partner=7), item(2, REF, "10", "2026-04-01", partner=8)]
    assert one(payment(REF, "20"), items).partner_id is None
    assert one(payment(REF, "10"), items).partner_id == 7


def test_payments_of_one_batch_consume_open_amounts_in_order():
    decisions = match_payments(
        [
            payment(REF, "20", "A1"),
            payment(REF, "60", "A2"),
            payment(REF, "40", "A3"),
            payment(REF, "5", "A4"),
        ],
        SHARED,
    )
    assert [d.kind for d in decisions] == [
        MatchKind.EXACT,
        MatchKind.PARTIAL,
        MatchKind.OVERPAYMENT,
        MatchKind.ALREADY_PAID,
    ]
    assert allocations(decisions[1]) == [(12, D(50)), (10, D(10))]
    assert allocations(decisions[2]) == [(10, D(20))]
    assert decisions[2].unapplied == D(20)
    assert decisions[3].allocations == ()
    assert decisions[3].unapplied == D(5)
    assert "already paid" in decisions[3].reason


def test_many_items_and_payments_on_one_reference():
    items = [
        item(i, REF, "10", (dt.date(2026, 1, 1) + dt.timedelta(days=i)).isoformat())
        for i in range(2000)
    ]
    decisions = match_payments([payment(REF, "10", f"A{i}") for i in range(2000)], items)
    assert all(d.kind is MatchKind.EXACT for d in decisions)
    assert [d.allocations[0].item_id for d in decisions] == list(range(2000))


# --- duplicates ----------------------------------------------------------------------------------


def test_duplicate_of_a_known_payment():
    known = [KnownPayment(ACCOUNT, "A1", REF, D(60))]
    decision = one(payment(REF, "60", "A1"), [item(1, REF, "60")], known_payments=known)
    assert decision.kind is MatchKind.DUPLICATE
    assert decision.allocations == ()
    assert decision.unapplied == D(0)
    assert decision.reason == (
        f"Archive id A1 on account {ACCOUNT} was already imported in an earlier import."
    )


def test_duplicate_within_the_batch_does_not_pay_twice():
    decisions = match_payments(
        [payment(REF, "30", "A1", line="line 2"), payment(REF, "30", "A1", line="line 5")],
        [item(1, REF, "60")],
    )
    assert [d.kind for d in decisions] == [MatchKind.PARTIAL, MatchKind.DUPLICATE]
    assert "earlier in this batch (line 2)" in decisions[1].reason


@pytest.mark.parametrize(
    ("first", "second", "kind"),
    [
        (payment(REF, "10", "A1"), payment(REF, "10", "A1", account="FI99"), MatchKind.EXACT),
        (payment(REF, "10", ""), payment(REF, "10", ""), MatchKind.EXACT),  # no archive id
        (payment(REF, "10", "A1"), payment(REF, "10", "A1", correction=True), MatchKind.REVERSAL),
        (
            payment(REF, "10", "C1", correction=True),
            payment(REF, "10", "C1", correction=True),
            MatchKind.DUPLICATE,
        ),
    ],
)
def test_what_counts_as_the_same_payment(first, second, kind):
    items = [item(1, REF, "10"), item(2, REF, "10", "2026-04-01")]
    known = [KnownPayment(ACCOUNT, "K1", REF, D(10))]
    decisions = match_payments([first, second], items, known_payments=known)
    assert decisions[1].kind is kind


# --- corrections ---------------------------------------------------------------------------------


def test_reversal_of_a_known_payment_by_archive_id():
    known = [KnownPayment(ACCOUNT, "A1", "13013", D(99), payment_date=dt.date(2026, 2, 27))]
    decision = one(payment(REF, "60", "A1", correction=True), [], known_payments=known)
    assert decision.kind is MatchKind.REVERSAL
    assert decision.reverses == (ACCOUNT, "A1")
    assert decision.unapplied == D(0)
    assert decision.reason == f"Reverses payment A1 of 2026-02-27 (99.00) on account {ACCOUNT}."


def test_reversal_of_a_known_payment_by_reference_and_amount_takes_the_latest():
    known = [
        KnownPayment(ACCOUNT, "K1", REF, D(60)),
        KnownPayment(ACCOUNT, "K2", "20240 00068", D("60.00")),
        KnownPayment(ACCOUNT, "K3", REF, D(61)),
        KnownPayment(ACCOUNT, "K4", REF, D(60), reversed=True),
    ]
    decision = one(payment(REF, "60", "R1", correction=True), [], known_payments=known)
    assert decision.kind is MatchKind.REVERSAL
    assert decision.reverses == (ACCOUNT, "K2")


def test_an_original_is_reversed_only_once():
    known = [KnownPayment(ACCOUNT, "K1", REF, D(60))]
    decisions = match_payments(
        [payment(REF, "60", "R1", correction=True), payment(REF, "60", "R2", correction=True)],
        [],
        known_payments=known,
    )
    assert [d.kind for d in decisions] == [MatchKind.REVERSAL, MatchKind.REVERSAL_UNMATCHED]
    assert decisions[1].unapplied == D(60)


def test_reversal_of_a_payment_of_the_batch_reopens_its_items():
    decisions = match_payments(
        [
            payment(REF, "60", "A1"),
            payment(REF, "60", "A2", correction=True),
            payment(REF, "60", "A3"),
        ],
        [item(1, REF, "60")],
    )
    assert [d.kind for d in decisions] == [
        MatchKind.EXACT,
        MatchKind.REVERSAL,
        MatchKind.EXACT,
    ]
    assert decisions[1].reverses == (ACCOUNT, "A1")
    assert allocations(decisions[2]) == [(1, D(60))]


def test_reversal_of_a_partial_payment_reopens_the_older_item():
    items = [item(1, REF, "20", "2026-01-01"), item(2, REF, "20", "2026-02-01")]
    decisions = match_payments(
        [
            payment(REF, "30", "A1"),
            payment(REF, "30", "A1", correction=True),
            payment(REF, "20", "A2"),
        ],
        items,
    )
    assert decisions[1].kind is MatchKind.REVERSAL
    assert allocations(decisions[2]) == [(1, D(20))]


@pytest.mark.parametrize(
    ("correction", "reason"),
    [
        (
            payment(REF, "60", "R9", correction=True),
            "Correction of 60.00 with reference 2024000068: no earlier payment with archive id "
            "R9 or with this reference and amount was found.",
        ),
        (
            payment("", "15", "R9", correction=True),  # not matched to an unreferenced payment
            "Correction of 15.00 with reference (none): no earlier payment with archive id "
            "R9 or with this reference and amount was found.",
        ),
    ],
)
def test_reversal_without_original(correction, reason):
    decisions = match_payments(
        [payment("", "15", "A1"), correction],
        [item(1, REF, "60")],
        known_payments=[KnownPayment(ACCOUNT, "K1", REF, D(61))],
    )
    assert decisions[1].kind is MatchKind.REVERSAL_UNMATCHED
    assert decisions[1].reason == reason
    assert decisions[1].reverses is None


def test_known_corrections_are_not_originals():
    known = [KnownPayment(ACCOUNT, "K1", REF, D(60), is_correction=True)]
    decision = one(payment(REF, "60", "R1", correction=True), [], known_payments=known)
    assert decision.kind is MatchKind.REVERSAL_UNMATCHED


# --- whole-batch properties ----------------------------------------------------------------------


def test_decisions_follow_payment_order_and_are_deterministic():
    pays = [payment(REF, "10", "A1"), payment("", "5", "A2"), payment("13013", "1", "A3")]
    first = match_payments(pays, SHARED)
    assert [d.payment.archive_id for d in first] == ["A1", "A2", "A3"]
    assert match_payments(pays, SHARED) == first


batch = st.lists(
    st.tuples(
        st.sampled_from([REF, OTHER, "1232", "", "9999"]),
        st.integers(1, 9000).map(lambda cents: D(cents).scaleb(-2)),
        st.sampled_from(["A1", "A2", "A3", "A4", "A5", "A6"]),
        st.booleans(),
    ),
    max_size=25,
)


@given(batch)
def test_money_is_conserved_and_items_never_overpaid(rows):
    items = [*SHARED, item(20, OTHER, "15.00"), item(21, "1232", "7.50")]
    pays = [
        payment(ref, str(amount), archive_id, correction=corr)
        for ref, amount, archive_id, corr in rows
    ]
    decisions = match_payments(pays, items)
    open_amounts = {it.item_id: it.open_amount for it in items}
    for decision in decisions:
        allocated = sum((a.amount for a in decision.allocations), D(0))
        if decision.kind in (MatchKind.DUPLICATE, MatchKind.REVERSAL):
            assert allocated == 0
            assert decision.unapplied == 0
        else:
            assert allocated + decision.unapplied == decision.payment.amount
        for allocation in decision.allocations:
            assert isinstance(allocation, ItemAllocation)
            assert allocation.amount > 0
            open_amounts[allocation.item_id] -= allocation.amount
        if decision.kind is MatchKind.REVERSAL:
            original = next(
                d
                for d in decisions
                if d.payment.archive_id == decision.reverses[1]
                and not d.payment.is_correction
                and d.kind is not MatchKind.DUPLICATE
            )
            for allocation in original.allocations:
                open_amounts[allocation.item_id] += allocation.amount
    assert all(amount >= 0 for amount in open_amounts.values())


def test_the_garbage_collector_is_left_as_it_was():
    assert gc.isenabled()
    match_payments([payment(REF, "1")], [item(1, REF, "1")])
    assert gc.isenabled()
    with pytest.raises(ValueError):
        match_payments([payment(REF, "0")], [])
    assert gc.isenabled()
    gc.disable()
    try:
        match_payments([payment(REF, "1")], [])
        assert not gc.isenabled()
    finally:
        gc.enable()
