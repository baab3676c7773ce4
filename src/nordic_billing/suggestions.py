# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Suggest which open items an unmatched payment may pay, for the person working the queue.

A payment lands in the unmatched queue when its reference is missing, unknown or invalid. The
usual causes: a mistyped reference (one digit wrong, two digits swapped, a digit missing or
extra) and a payer who wrote no reference but paid the exact amount. :func:`suggest` ranks
candidate open items by those two signs and says why in words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from difflib import SequenceMatcher

from nordic_billing.references import normalise_for_matching


@dataclass(frozen=True, slots=True)
class Candidate:
    """An open item that the payment might pay."""

    item_id: int | str
    reference: str
    open_amount: Decimal
    partner_name: str


@dataclass(frozen=True, slots=True)
class Suggestion:
    item_id: int | str
    score: int  # 0-100, higher is likelier
    reason: str


def reference_distance(a: str, b: str) -> int:
    """Edit distance with adjacent transpositions (optimal string alignment), capped at 3."""
    if a == b:
        return 0
    if abs(len(a) - len(b)) > 2:
        return 3
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return min(previous[-1], 3)


def name_similarity(a: str, b: str) -> float:
    """0..1 similarity of two names, ignoring case, word order and punctuation."""

    def words(name: str) -> str:
        cleaned = "".join(ch if ch.isalnum() else " " for ch in name.casefold())
        return " ".join(sorted(cleaned.split()))

    left, right = words(a), words(b)
    if not left or not right:
        return 0.0
    return SequenceMatcher(None, left, right).ratio()


def suggest(
    reference: str,
    amount: Decimal,
    payer_name: str,
    candidates: Iterable[Candidate],
    *,
    limit: int = 5,
) -> list[Suggestion]:
    """Rank ``candidates`` for a payment; only those with some sign are returned, best first.

    Signs: the reference is one or two edits (a typo, a swap) from the item's; the amount equals
    the open amount; the payer's name resembles the item's partner. Ties keep the candidates'
    order, so the result is deterministic.
    """
    key = normalise_for_matching(reference)
    ranked: list[tuple[int, int, Suggestion]] = []
    for position, item in enumerate(candidates):
        score, reasons = 0, []
        item_key = normalise_for_matching(item.reference)
        if key and item_key:
            distance = reference_distance(key, item_key)
            if distance == 1:
                score += 60
                reasons.append(f"reference {item.reference} is one typo away")
            elif distance == 2:
                score += 35
                reasons.append(f"reference {item.reference} is two typos away")
        if amount == item.open_amount:
            score += 25
            reasons.append(f"the amount {amount:.2f} is exactly what is open")
        similarity = name_similarity(payer_name, item.partner_name)
        if similarity >= 0.6:
            score += round(15 * similarity)
            reasons.append(f"the payer {payer_name!r} resembles {item.partner_name!r}")
        # The amount alone is too weak a sign when many items are open for the same amount.
        if score > 25 or (score and reasons[0].startswith("reference")):
            reason = "; ".join(reasons).capitalize() + "."
            ranked.append((-score, position, Suggestion(item.item_id, min(score, 100), reason)))
    ranked.sort(key=lambda entry: entry[:2])
    return [entry[2] for entry in ranked[:limit]]
