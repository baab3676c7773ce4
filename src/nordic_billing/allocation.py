# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Split a membership fee, or a payment of it, over the organisations that share it.

Money is handled in integer cents. An amount may be given as a :class:`~decimal.Decimal` in
currency units (``Decimal("60.00")``) or as an ``int`` number of cents (``6000``); results are
:class:`AllocationLine` records in cents with a Decimal ``amount`` for convenience.

The steps, each callable on its own with plain data (ids, Decimals):

1. A product carries a :class:`RuleSet`: shares per hierarchy level (``club``, ``district``,
   ``federation``) or per named organisation, either as fixed amounts that add up to the price
   or as percentages that add up to 100. :meth:`RuleSet.check` says in words what is wrong.
2. :func:`resolve_targets` applies the rules to a member's organisation chain and gives what each
   beneficiary receives once the price is paid in full (its *target*). A level missing from the
   chain (a club directly under the federation, a member of a district without a club) passes
   its share to the nearest organisation above that level in the chain, which takes over the
   missing level's role; when no organisation is above it, the share goes to the operator (the
   company that collects the fees).
3. :func:`allocate` splits a payment pro rata over what is still due to each beneficiary, so that
   partial payments never give anyone more than its target, never take anything back, and end
   exactly on the targets when the price has been paid.
4. :func:`reverse` is the allocation of a reversed payment: the same lines with negative cents.

Rounding is largest remainder (Hamilton) in whole cents: each part is the exact pro-rata share
rounded down or up, the parts add up exactly to the whole, and the cents left over after rounding
down go to the largest fractional remainders, ties going to the beneficiary that comes first in
the order given. Largest remainder is not monotone in the total (the "Alabama paradox": splitting
4 cents by 1:3:3 gives 0/2/2 while 3 cents give 1/1/1), which is why :func:`allocate` splits each
payment over the remaining targets instead of re-splitting the running total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

# The money helpers were first written here: re-exported for whoever imports them from here.
from .money import Money, MoneyError, from_cents, to_cents

BeneficiaryKey = int | str
"""An organisation id (or any key the caller uses for a beneficiary, e.g. the operator)."""

DEFAULT_LEVELS: tuple[str, ...] = ("club", "district", "federation")
"""Hierarchy levels from the bottom to the top."""


AllocationError = MoneyError
"""Rules, amounts or an organisation chain that cannot be split; the message says why. The
money helpers' error, so that an amount that is not a whole number of cents is one too."""


def _integer_weights(weights: Sequence[int | Decimal]) -> list[int]:
    """The weights scaled by one power of ten so that all are integers (exactly)."""
    decimals = [w for w in weights if isinstance(w, Decimal)]
    if any(not w.is_finite() for w in decimals):
        raise AllocationError("A weight is not a finite number.")
    shift = max((-int(w.as_tuple().exponent) for w in decimals), default=0)
    return (
        [int(Decimal(w).scaleb(shift)) for w in weights] if shift > 0 else [int(w) for w in weights]
    )


def split_cents(total: int, weights: Sequence[int | Decimal]) -> list[int]:
    """Split ``total`` cents in proportion to ``weights`` by largest remainder.

    The parts add up to ``total`` exactly; each is the exact share rounded down or up; ties are
    broken in favour of the earlier weight. A negative total is split as the negative of the split
    of its absolute value, so that the split of a reversal is the reversal of the split. Weights
    must not be negative and, unless the total is zero, not all zero.
    """
    if total < 0:
        return [-part for part in split_cents(-total, weights)]
    ints = _integer_weights(weights)
    if any(w < 0 for w in ints):
        raise AllocationError("A weight is negative.")
    whole = sum(ints)
    if whole == 0:
        if total:
            raise AllocationError("There is nothing to split over: every weight is zero.")
        return [0] * len(ints)
    parts = [total * w // whole for w in ints]
    remainders = [total * w - part * whole for w, part in zip(ints, parts, strict=True)]
    short = total - sum(parts)
    # sorted() is stable: among equal remainders the earlier beneficiary comes first.
    for index in sorted(range(len(ints)), key=lambda i: -remainders[i])[:short]:
        parts[index] += 1
    return parts


@dataclass(frozen=True, slots=True)
class AllocationLine:
    """Cents for one beneficiary."""

    beneficiary: BeneficiaryKey
    cents: int

    @property
    def amount(self) -> Decimal:
        """The cents in currency units."""
        return from_cents(self.cents)


@dataclass(frozen=True, slots=True)
class SplitRule:
    """One share of a product's price.

    ``target`` is a hierarchy level (``per="level"``) or an organisation key
    (``per="organisation"``). ``value`` is an amount in currency units for a fixed rule set, or a
    percentage for a percentage rule set. ``label`` names the target in messages (e.g. the
    organisation's name); the target itself is used when it is empty.
    """

    target: BeneficiaryKey
    value: Decimal
    per: Literal["level", "organisation"] = "level"
    label: str = ""

    @property
    def name(self) -> str:
        """How messages name the target."""
        if self.label:
            return self.label
        return f"the {self.target} level" if self.per == "level" else f"organisation {self.target}"


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The shares of a product's price: all fixed amounts, or all percentages."""

    basis: Literal["fixed", "percent"]
    rules: tuple[SplitRule, ...]

    def problems(
        self, price: Money | None = None, levels: Sequence[str] = DEFAULT_LEVELS
    ) -> list[str]:
        """Sentences describing what is wrong with the rules; empty when they are usable.

        Fixed shares are checked against ``price`` (when given); percentages against 100.
        """
        found: list[str] = []
        if not self.rules:
            return ["The split has no shares."]
        seen: set[tuple[str, BeneficiaryKey]] = set()
        for rule in self.rules:
            if (rule.per, rule.target) in seen:
                found.append(f"{rule.name.capitalize()} has more than one share.")
            seen.add((rule.per, rule.target))
            if rule.per == "level" and rule.target not in levels:
                found.append(f"{rule.target!r} is not a hierarchy level ({', '.join(levels)}).")
            if rule.value < 0:
                found.append(f"The share of {rule.name} is negative ({rule.value}).")
            if self.basis == "fixed" and rule.value.scaleb(2) != rule.value.scaleb(2).to_integral():
                found.append(f"The share of {rule.name} ({rule.value}) has a fraction of a cent.")
        if found:
            return found
        if self.basis == "percent":
            total = sum((rule.value for rule in self.rules), Decimal(0))
            if total != 100:
                found.append(f"The percentages add up to {total} %, not 100 %.")
        elif price is not None:
            total_cents = sum(to_cents(rule.value) for rule in self.rules)
            price_cents = to_cents(price)
            if total_cents != price_cents:
                gap = price_cents - total_cents
                what = "missing" if gap > 0 else "too much"
                found.append(
                    f"The fixed shares add up to {from_cents(total_cents)} but the price is "
                    f"{from_cents(price_cents)} ({from_cents(abs(gap))} {what})."
                )
        return found

    def check(self, price: Money | None = None, levels: Sequence[str] = DEFAULT_LEVELS) -> None:
        """Raise :class:`AllocationError` with every problem of :meth:`problems`, if any."""
        found = self.problems(price, levels)
        if found:
            raise AllocationError(" ".join(found))


@dataclass(frozen=True, slots=True)
class Organisation:
    """One organisation of a member's chain, with its hierarchy level."""

    key: BeneficiaryKey
    level: str


def _check_chain(chain: Sequence[Organisation], levels: Sequence[str]) -> None:
    rank = {level: index for index, level in enumerate(levels)}
    previous = -1
    for org in chain:
        if org.level not in rank:
            raise AllocationError(
                f"Organisation {org.key} has level {org.level!r}, "
                f"which is not a hierarchy level ({', '.join(levels)})."
            )
        if rank[org.level] <= previous:
            raise AllocationError(
                "The organisation chain must go upwards from the member's organisation, "
                f"one organisation per level; {org.key} ({org.level}) is out of order."
            )
        previous = rank[org.level]


def _level_beneficiary(
    level: str, chain: Sequence[Organisation], levels: Sequence[str], operator: BeneficiaryKey
) -> BeneficiaryKey:
    """The organisation of ``level`` in the chain, else the nearest one above, else the operator."""
    wanted = levels.index(level)
    for org in chain:
        if levels.index(org.level) >= wanted:
            return org.key
    return operator


def resolve_targets(
    rule_set: RuleSet,
    chain: Sequence[Organisation],
    price: Money,
    *,
    operator: BeneficiaryKey,
    levels: Sequence[str] = DEFAULT_LEVELS,
) -> list[AllocationLine]:
    """What each beneficiary receives of ``price`` once it is paid in full.

    ``chain`` is the member's organisation first, then its parent, up to the top. Level shares go
    to the chain's organisation of that level or, when the level is missing, to the nearest
    organisation above it, or to ``operator`` when there is none. Shares that end up with the same
    beneficiary are added together; lines keep the order of the rules. Percentages are applied to
    the price by largest remainder. Raises :class:`AllocationError` for bad rules or chain.
    """
    rule_set.check(price, levels)
    _check_chain(chain, levels)
    weights: dict[BeneficiaryKey, Decimal] = {}
    for rule in rule_set.rules:
        key = (
            _level_beneficiary(str(rule.target), chain, levels, operator)
            if rule.per == "level"
            else rule.target
        )
        weights[key] = weights.get(key, Decimal(0)) + rule.value
    if rule_set.basis == "fixed":
        cents = [to_cents(value) for value in weights.values()]
    else:
        cents = split_cents(to_cents(price), list(weights.values()))
    return [AllocationLine(key, part) for key, part in zip(weights, cents, strict=True)]


def allocate(
    amount: Money,
    targets: Sequence[AllocationLine],
    allocated_before: Mapping[BeneficiaryKey, int] | None = None,
) -> list[AllocationLine]:
    """Split a payment of ``amount`` pro rata over what is still due to each beneficiary.

    ``targets`` comes from :func:`resolve_targets`; ``allocated_before`` holds the cents already
    allocated to each beneficiary from earlier payments of the same fee. The amount may not exceed
    what is still due (the caller allocates only the part of a payment applied to the fee; an
    overpayment stays with the payer). Lines of zero cents are left out.
    """
    cents = to_cents(amount)
    if cents < 0:
        raise AllocationError(f"Cannot allocate a negative amount ({from_cents(cents)}).")
    before = dict(allocated_before or {})
    remaining = []
    for line in targets:
        still_due = line.cents - before.pop(line.beneficiary, 0)
        if still_due < 0:
            raise AllocationError(
                f"Beneficiary {line.beneficiary} has already received more than its share."
            )
        remaining.append(still_due)
    if before:
        strangers = ", ".join(str(key) for key in before)
        raise AllocationError(f"Earlier allocations went to {strangers}, which have no share.")
    due = sum(remaining)
    if cents > due:
        raise AllocationError(
            f"The amount {from_cents(cents)} is more than what is still due ({from_cents(due)})."
        )
    parts = split_cents(cents, remaining)
    return [
        AllocationLine(line.beneficiary, part)
        for line, part in zip(targets, parts, strict=True)
        if part
    ]


def allocate_payment(
    amount: Money,
    rule_set: RuleSet,
    chain: Sequence[Organisation],
    price: Money,
    *,
    operator: BeneficiaryKey,
    levels: Sequence[str] = DEFAULT_LEVELS,
    allocated_before: Mapping[BeneficiaryKey, int] | None = None,
) -> list[AllocationLine]:
    """:func:`resolve_targets` and :func:`allocate` in one call."""
    targets = resolve_targets(rule_set, chain, price, operator=operator, levels=levels)
    return allocate(amount, targets, allocated_before)


def reverse(lines: Sequence[AllocationLine]) -> list[AllocationLine]:
    """The allocation of a reversed payment: the same beneficiaries, negative cents."""
    return [AllocationLine(line.beneficiary, -line.cents) for line in lines]
