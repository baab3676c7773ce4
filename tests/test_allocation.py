# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Allocation: rule checks, level resolution, pro-rata payments, cent-exact rounding."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nordic_billing.allocation import (
    AllocationError,
    AllocationLine,
    Organisation,
    RuleSet,
    SplitRule,
    allocate,
    allocate_payment,
    from_cents,
    resolve_targets,
    reverse,
    split_cents,
    to_cents,
)

CLUB, DISTRICT, FEDERATION, OPERATOR = 12, 3, 1, "operator"
FULL_CHAIN = [
    Organisation(CLUB, "club"),
    Organisation(DISTRICT, "district"),
    Organisation(FEDERATION, "federation"),
]
FEE = RuleSet(
    "fixed",
    (
        SplitRule("federation", Decimal("25")),
        SplitRule("district", Decimal("10")),
        SplitRule("club", Decimal("25")),
    ),
)


def pairs(lines: list[AllocationLine]) -> list[tuple[object, int]]:
    return [(line.beneficiary, line.cents) for line in lines]


# --- money ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "cents"),
    [(Decimal("60"), 6000), (Decimal("60.00"), 6000), (Decimal("0.01"), 1), (6000, 6000)],
)
def test_to_cents(amount, cents):
    assert to_cents(amount) == cents


@pytest.mark.parametrize("amount", [Decimal("0.001"), Decimal("12.345"), Decimal("NaN")])
def test_to_cents_refuses_fractions_of_a_cent(amount):
    with pytest.raises(AllocationError, match="not a whole number of cents"):
        to_cents(amount)


def test_from_cents():
    assert from_cents(6000) == Decimal("60.00")
    assert str(from_cents(-5)) == "-0.05"


# --- the brief's example and level resolution ----------------------------------------------------


def test_fixed_shares_of_a_sixty_euro_fee():
    targets = resolve_targets(FEE, FULL_CHAIN, Decimal("60"), operator=OPERATOR)
    assert pairs(targets) == [(FEDERATION, 2500), (DISTRICT, 1000), (CLUB, 2500)]
    assert [line.amount for line in targets] == [Decimal("25.00"), Decimal("10.00"), Decimal("25")]


def test_missing_district_share_goes_to_the_federation_above_it():
    chain = [Organisation(CLUB, "club"), Organisation(FEDERATION, "federation")]
    targets = resolve_targets(FEE, chain, Decimal("60"), operator=OPERATOR)
    assert pairs(targets) == [(FEDERATION, 3500), (CLUB, 2500)]


def test_member_of_a_district_without_club_gives_the_club_share_to_the_district():
    chain = [Organisation(DISTRICT, "district"), Organisation(FEDERATION, "federation")]
    targets = resolve_targets(FEE, chain, 6000, operator=OPERATOR)
    assert pairs(targets) == [(FEDERATION, 2500), (DISTRICT, 3500)]


def test_share_of_a_missing_top_level_goes_to_the_operator():
    chain = [Organisation(CLUB, "club"), Organisation(DISTRICT, "district")]
    targets = resolve_targets(FEE, chain, Decimal("60"), operator=OPERATOR)
    assert pairs(targets) == [(OPERATOR, 2500), (DISTRICT, 1000), (CLUB, 2500)]


def test_member_without_organisation_gives_everything_to_the_operator():
    targets = resolve_targets(FEE, [], Decimal("60"), operator=OPERATOR)
    assert pairs(targets) == [(OPERATOR, 6000)]


def test_share_for_a_named_organisation_and_merging_with_a_level_share():
    rules = RuleSet(
        "fixed",
        (
            SplitRule("club", Decimal("40")),
            SplitRule(99, Decimal("15"), per="organisation", label="Youth fund"),
            SplitRule(CLUB, Decimal("5"), per="organisation"),
        ),
    )
    targets = resolve_targets(rules, FULL_CHAIN, Decimal("60"), operator=OPERATOR)
    assert pairs(targets) == [(CLUB, 4500), (99, 1500)]


def test_percentages_round_by_largest_remainder_in_rule_order():
    rules = RuleSet(
        "percent",
        (
            SplitRule("federation", Decimal("33.33")),
            SplitRule("district", Decimal("33.33")),
            SplitRule("club", Decimal("33.34")),
        ),
    )
    # 0.01 -> exact shares 0.003333, 0.003333, 0.003334: the largest remainder is the club's.
    assert pairs(resolve_targets(rules, FULL_CHAIN, 1, operator=OPERATOR)) == [
        (FEDERATION, 0),
        (DISTRICT, 0),
        (CLUB, 1),
    ]
    # 0.02 -> two cents left over, club first, then the federation (earlier of the tied pair).
    assert pairs(resolve_targets(rules, FULL_CHAIN, 2, operator=OPERATOR)) == [
        (FEDERATION, 1),
        (DISTRICT, 0),
        (CLUB, 1),
    ]
    assert pairs(resolve_targets(rules, FULL_CHAIN, Decimal("100"), operator=OPERATOR)) == [
        (FEDERATION, 3333),
        (DISTRICT, 3333),
        (CLUB, 3334),
    ]


def test_custom_levels():
    rules = RuleSet("percent", (SplitRule("team", Decimal(50)), SplitRule("league", Decimal(50))))
    chain = [Organisation("t1", "team"), Organisation("l1", "league")]
    targets = resolve_targets(rules, chain, 101, operator=OPERATOR, levels=("team", "league"))
    assert pairs(targets) == [("t1", 51), ("l1", 50)]


# --- rule checks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "price", "message"),
    [
        (
            RuleSet(
                "fixed", (SplitRule("federation", Decimal(25)), SplitRule("club", Decimal(25)))
            ),
            Decimal(60),
            "The fixed shares add up to 50.00 but the price is 60.00 (10.00 missing).",
        ),
        (
            RuleSet(
                "fixed", (SplitRule("federation", Decimal(50)), SplitRule("club", Decimal(25)))
            ),
            Decimal(60),
            "The fixed shares add up to 75.00 but the price is 60.00 (15.00 too much).",
        ),
        (
            RuleSet(
                "percent", (SplitRule("club", Decimal(60)), SplitRule("district", Decimal(30)))
            ),
            None,
            "The percentages add up to 90 %, not 100 %.",
        ),
        (RuleSet("fixed", ()), Decimal(60), "The split has no shares."),
        (
            RuleSet("fixed", (SplitRule("club", Decimal(70)), SplitRule("district", Decimal(-10)))),
            Decimal(60),
            "The share of the district level is negative (-10).",
        ),
        (
            RuleSet("fixed", (SplitRule("club", Decimal(30)), SplitRule("club", Decimal(30)))),
            Decimal(60),
            "The club level has more than one share.",
        ),
        (
            RuleSet("fixed", (SplitRule("region", Decimal(60)),)),
            Decimal(60),
            "'region' is not a hierarchy level (club, district, federation).",
        ),
        (
            RuleSet(
                "fixed",
                (
                    SplitRule("club", Decimal("59.995")),
                    SplitRule(7, Decimal("0.005"), per="organisation", label="FC Example"),
                ),
            ),
            Decimal(60),
            "The share of the club level (59.995) has a fraction of a cent. "
            "The share of FC Example (0.005) has a fraction of a cent.",
        ),
    ],
)
def test_rule_problems_in_words(rules, price, message):
    assert " ".join(rules.problems(price)) == message
    with pytest.raises(AllocationError) as caught:
        rules.check(price)
    assert str(caught.value) == message
    with pytest.raises(AllocationError):
        resolve_targets(rules, FULL_CHAIN, price or Decimal(60), operator=OPERATOR)


def test_valid_rules_have_no_problems():
    assert FEE.problems(Decimal("60.00")) == []
    assert FEE.problems() == []  # without a price the total cannot be checked
    FEE.check(6000)


@pytest.mark.parametrize(
    ("chain", "message"),
    [
        ([Organisation(1, "federation"), Organisation(12, "club")], "out of order"),
        ([Organisation(12, "club"), Organisation(13, "club")], "out of order"),
        ([Organisation(12, "team")], "has level 'team', which is not a hierarchy level"),
    ],
)
def test_bad_chain(chain, message):
    with pytest.raises(AllocationError, match=message):
        resolve_targets(FEE, chain, Decimal(60), operator=OPERATOR)


# --- payments ------------------------------------------------------------------------------------


def test_full_payment_gives_every_beneficiary_its_target():
    lines = allocate_payment(Decimal(60), FEE, FULL_CHAIN, Decimal(60), operator=OPERATOR)
    assert pairs(lines) == [(FEDERATION, 2500), (DISTRICT, 1000), (CLUB, 2500)]


def test_partial_payment_is_pro_rata():
    lines = allocate_payment(Decimal(30), FEE, FULL_CHAIN, Decimal(60), operator=OPERATOR)
    assert pairs(lines) == [(FEDERATION, 1250), (DISTRICT, 500), (CLUB, 1250)]


def test_payments_after_a_partial_one_split_what_is_still_due():
    targets = resolve_targets(FEE, FULL_CHAIN, Decimal(60), operator=OPERATOR)
    first = allocate(Decimal("0.05"), targets)
    # 5 cents of 25:10:25 -> 2.08, 0.83, 2.08: the district's remainder is largest.
    assert pairs(first) == [(FEDERATION, 2), (DISTRICT, 1), (CLUB, 2)]
    before = {line.beneficiary: line.cents for line in first}
    rest = allocate(Decimal("59.95"), targets, before)
    assert pairs(rest) == [(FEDERATION, 2498), (DISTRICT, 999), (CLUB, 2498)]


def test_zero_cent_lines_are_left_out():
    targets = resolve_targets(FEE, FULL_CHAIN, Decimal(60), operator=OPERATOR)
    assert pairs(allocate(1, targets)) == [(FEDERATION, 1)]
    assert allocate(0, targets) == []


@pytest.mark.parametrize(
    ("amount", "before", "message"),
    [
        (Decimal("60.01"), None, r"The amount 60.01 is more than what is still due \(60.00\)\."),
        (Decimal(31), {FEDERATION: 2500, CLUB: 500}, r"more than what is still due \(30.00\)"),
        (Decimal(-1), None, r"Cannot allocate a negative amount \(-1.00\)\."),
        (Decimal(1), {CLUB: 2501}, r"Beneficiary 12 has already received more than its share\."),
        (Decimal(1), {77: 100}, r"Earlier allocations went to 77, which have no share\."),
    ],
)
def test_allocate_refuses(amount, before, message):
    targets = resolve_targets(FEE, FULL_CHAIN, Decimal(60), operator=OPERATOR)
    with pytest.raises(AllocationError, match=message):
        allocate(amount, targets, before)


def test_reversal_is_the_negative_allocation():
    lines = allocate_payment(Decimal(30), FEE, FULL_CHAIN, Decimal(60), operator=OPERATOR)
    reversed_lines = reverse(lines)
    assert pairs(reversed_lines) == [(FEDERATION, -1250), (DISTRICT, -500), (CLUB, -1250)]
    assert sum(line.cents for line in lines + reversed_lines) == 0
    assert reversed_lines[0].amount == Decimal("-12.50")


# --- split_cents ---------------------------------------------------------------------------------


def test_split_ties_go_to_the_earlier_beneficiary():
    assert split_cents(1, [1, 1, 1]) == [1, 0, 0]
    assert split_cents(2, [1, 1, 1]) == [1, 1, 0]
    assert split_cents(2, [1, 2, 1]) == [1, 1, 0]


def test_largest_remainder_is_not_monotone_in_the_total():
    # The Alabama paradox: one more cent in total, one cent less for the first beneficiary. This
    # is why allocate() splits each payment over what is still due instead of re-splitting.
    assert split_cents(3, [1, 3, 3]) == [1, 1, 1]
    assert split_cents(4, [1, 3, 3]) == [0, 2, 2]


def test_split_mixes_int_and_decimal_weights():
    assert split_cents(100, [1, Decimal("0.5"), Decimal("0.5")]) == [50, 25, 25]


@pytest.mark.parametrize(
    ("total", "weights", "message"),
    [
        (5, [0, 0], "every weight is zero"),
        (5, [], "every weight is zero"),
        (5, [2, -1], "A weight is negative"),
        (5, [Decimal("Infinity")], "not a finite number"),
    ],
)
def test_split_refuses(total, weights, message):
    with pytest.raises(AllocationError, match=message):
        split_cents(total, weights)


def test_split_of_nothing():
    assert split_cents(0, [0, 0]) == [0, 0]
    assert split_cents(0, [1, 2]) == [0, 0]


weights_strategy = st.lists(
    st.one_of(
        st.integers(0, 10**6),
        st.decimals(min_value=0, max_value=1000, places=3, allow_nan=False, allow_infinity=False),
    ),
    min_size=1,
    max_size=12,
).filter(lambda ws: sum(ws) > 0)


@given(st.integers(-(10**9), 10**9), weights_strategy)
def test_split_properties(total, weights):
    parts = split_cents(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)
    assert split_cents(total, weights) == parts  # deterministic
    whole = sum(Fraction(w) for w in weights)
    for weight, part in zip(weights, parts, strict=True):
        exact = total * Fraction(weight) / whole
        assert abs(part - exact) < 1  # the exact share rounded down or up
        if total >= 0:
            assert part >= 0
        if weight == 0:
            assert part == 0
    assert split_cents(-total, weights) == [-part for part in parts]


@given(
    targets=st.lists(st.integers(0, 100_000), min_size=1, max_size=8).filter(sum),
    data=st.data(),
)
def test_partial_payments_never_exceed_targets_and_end_on_them(targets, data):
    lines = [AllocationLine(index, cents) for index, cents in enumerate(targets)]
    due = sum(targets)
    cuts = data.draw(st.lists(st.integers(1, due), max_size=6, unique=True).map(sorted))
    payments = [b - a for a, b in zip([0, *cuts], [*cuts, due], strict=True) if b > a]
    running = dict.fromkeys(range(len(targets)), 0)
    for amount in payments:
        paid = allocate(amount, lines, running)
        assert sum(line.cents for line in paid) == amount
        for line in paid:
            assert line.cents > 0  # never takes back what an earlier payment gave
            running[line.beneficiary] += line.cents
            assert running[line.beneficiary] <= targets[line.beneficiary]
    assert [running[index] for index in range(len(targets))] == targets


@given(st.integers(0, 6000), st.integers(0, 6000))
def test_a_larger_first_payment_gives_every_beneficiary_at_least_its_floor(smaller, larger):
    if smaller > larger:
        smaller, larger = larger, smaller
    targets = resolve_targets(FEE, FULL_CHAIN, Decimal(60), operator=OPERATOR)
    small = {line.beneficiary: line.cents for line in allocate(smaller, targets)}
    large = {line.beneficiary: line.cents for line in allocate(larger, targets)}
    for line in targets:
        # Pro rata: never more than one cent of rounding against a larger payment.
        assert large.get(line.beneficiary, 0) >= small.get(line.beneficiary, 0) - 1
        assert large.get(line.beneficiary, 0) <= line.cents
