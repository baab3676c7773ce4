# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from nordic_billing.suggestions import Candidate, name_similarity, reference_distance, suggest

D = Decimal


def test_reference_distance_counts_typos_and_swaps():
    assert reference_distance("2024000068", "2024000068") == 0
    assert reference_distance("2024000068", "2024000069") == 1  # one digit
    assert reference_distance("2024000068", "2024000086") == 1  # adjacent swap
    assert reference_distance("2024000068", "202400068") == 1  # digit missing
    assert reference_distance("2024000068", "2042000086") == 2
    assert reference_distance("2024000068", "9999") == 3  # capped


@given(st.text(alphabet="0123456789", max_size=12), st.text(alphabet="0123456789", max_size=12))
def test_reference_distance_is_symmetric(a, b):
    assert reference_distance(a, b) == reference_distance(b, a)


def test_name_similarity_ignores_order_and_case():
    assert name_similarity("Virtanen Aino", "AINO VIRTANEN") == 1.0
    assert name_similarity("Aino Virtanen", "Bertil Nyström") < 0.5
    assert name_similarity("", "Aino") == 0.0


def test_suggest_ranks_typo_before_amount_and_name():
    candidates = [
        Candidate(1, "13013", D("60.00"), "Bertil Nyström"),  # amount only: too weak alone
        Candidate(2, "2024000068", D("35.00"), "Someone Else"),  # typo away
        Candidate(3, "55553", D("60.00"), "Aino Virtanen"),  # amount and name
    ]
    result = suggest("2024000086", D("60.00"), "VIRTANEN AINO", candidates)
    assert [s.item_id for s in result] == [2, 3]
    assert "one typo away" in result[0].reason
    assert "exactly what is open" in result[1].reason and "resembles" in result[1].reason


def test_suggest_nothing_without_signs():
    candidates = [Candidate(1, "13013", D("10.00"), "Bertil")]
    assert suggest("", D("60.00"), "Aino", candidates) == []
