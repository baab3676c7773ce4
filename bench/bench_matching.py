# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Payment matching and reference-number throughput.

Run ``python bench/bench_matching.py [--items 200000] [--payments 100000] [--repeat 3]``. Builds a
seeded, reproducible batch: open items with Finnish national and RF references (some references
shared by several items, as with a per-partner reference), and payments that are exact, partial,
over, of unknown, mistyped or no reference, duplicates (in the batch and of known payments) and
corrections, with references written as KTL pads them, as printed, or RF-wrapped. Prints the best
and median matching time, payments/s and the decisions per kind, then make/check/normalise rates
of every reference kind. Prints figures, asserts nothing. Goal: 100k payments against 200k open
items in under 2 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from nordic_billing.matching import KnownPayment, OpenItem, match_payments
from nordic_billing.payment import Payment
from nordic_billing.references import FI, KINDS, RF, normalise_for_matching

ACCOUNT = "FI2112345600000785"
DAY = dt.date(2026, 3, 2)
T = TypeVar("T")


def build_items(count: int, rng: random.Random) -> list[OpenItem]:
    """Open items; about one in twenty shares the previous item's reference."""
    items: list[OpenItem] = []
    for index in range(count):
        if index and rng.random() < 0.05:
            reference = items[-1].reference
        else:
            national = FI.make(str(1_000_000 + index))
            reference = RF.make(national) if rng.random() < 0.1 else national
        items.append(
            OpenItem(
                item_id=index,
                reference=reference,
                open_amount=Decimal(rng.choice((2500, 4000, 6000, 12000))).scaleb(-2),
                partner_id=index // 2,
                due_date=DAY - dt.timedelta(days=rng.randrange(90)),
            )
        )
    return items


def payer_form(reference: str, rng: random.Random) -> str:
    """The reference as a bank may deliver it: KTL zero padding, print form, or as is."""
    if reference.startswith("RF"):
        return RF.format(reference) if rng.random() < 0.5 else reference
    roll = rng.random()
    if roll < 0.4:
        return reference.zfill(20)
    if roll < 0.6:
        return FI.format(reference)
    return reference


def build_payments(
    count: int, items: list[OpenItem], rng: random.Random
) -> tuple[list[Payment], list[KnownPayment]]:
    """A mixed batch and the known payments it refers to (for duplicates and corrections)."""
    payments: list[Payment] = []
    known = [
        KnownPayment(ACCOUNT, f"K{n:09d}", items[n].reference, items[n].open_amount)
        for n in range(0, count // 20)
    ]

    def make(reference: str, amount: Decimal, archive_id: str, correction: bool = False) -> None:
        payments.append(
            Payment(
                account=ACCOUNT,
                archive_id=archive_id,
                reference=reference,
                amount=amount,
                currency="EUR",
                payment_date=DAY,
                booking_date=DAY,
                payer_name="VIRTANEN MATTI",
                is_correction=correction,
                source_format="ktl",
                source_line=f"line {len(payments) + 2}",
            )
        )

    targets = rng.sample(range(len(items)), min(count, len(items)))
    for n in range(count):
        archive_id = f"A{n:09d}"
        target = items[targets[n % len(targets)]]
        roll = rng.random()
        if roll < 0.55:  # exact
            make(payer_form(target.reference, rng), target.open_amount, archive_id)
        elif roll < 0.65:  # partial
            make(payer_form(target.reference, rng), target.open_amount / 2, archive_id)
        elif roll < 0.70:  # over
            make(payer_form(target.reference, rng), target.open_amount + 10, archive_id)
        elif roll < 0.78:  # unknown: valid reference that no item has
            make(FI.make(str(900_000_000 + n)), Decimal("40.00"), archive_id)
        elif roll < 0.82:  # mistyped check digit
            wrong = target.reference[:-1] + str((int(target.reference[-1]) + 1) % 10)
            make(wrong, Decimal("40.00"), archive_id)
        elif roll < 0.90:  # unreferenced
            make("", Decimal("25.00"), archive_id)
        elif roll < 0.95 and payments:  # repeated within the batch
            earlier = payments[rng.randrange(len(payments))]
            make(earlier.reference, earlier.amount, earlier.archive_id, earlier.is_correction)
        elif roll < 0.98:  # already imported earlier
            old = known[rng.randrange(len(known))]
            make(old.reference, old.amount, old.archive_id)
        else:  # correction of a known payment, found by reference and amount
            old = known[rng.randrange(len(known))]
            make(old.reference, old.amount, f"R{n:09d}", correction=True)
    return payments, known


def timed(function: Callable[[], T], repeat: int) -> tuple[list[tuple[float, float]], T]:
    """(wall-clock, process CPU) seconds of each of ``repeat`` runs (at least one), last result.

    CPU time is shown too because a shared machine makes wall-clock time noisy.
    """
    times = []
    for _ in range(max(repeat, 1)):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
    return times, result


def bench_matching(item_count: int, payment_count: int, repeat: int) -> None:
    rng = random.Random(20260302)
    items = build_items(item_count, rng)
    payments, known = build_payments(payment_count, items, rng)
    times, decisions = timed(lambda: match_payments(payments, items, known_payments=known), repeat)
    print(f"matching: {len(payments):,} payments x {len(items):,} open items, {len(times)} runs")
    for label, seconds in (("wall", [t[0] for t in times]), ("cpu", [t[1] for t in times])):
        best, median = min(seconds), statistics.median(seconds)
        print(
            f"  {label:<4} best {best:.3f} s ({len(payments) / best:,.0f} payments/s), "
            f"median {median:.3f} s"
        )
    kinds = Counter(decision.kind.value for decision in decisions)
    for kind, number in kinds.most_common():
        print(f"  {kind:<20} {number:>8,}")


def bench_references(count: int) -> None:
    print(f"references: {count:,} bases per kind")
    bases = [str(1_000_000 + n) for n in range(count)]
    for code, kind in KINDS.items():
        start = time.perf_counter()
        made = [kind.make(base) for base in bases]
        make_s = time.perf_counter() - start
        start = time.perf_counter()
        valid = sum(kind.check(reference) for reference in made)
        check_s = time.perf_counter() - start
        print(
            f"  {code:<8} make {count / make_s:>10,.0f}/s   check {count / check_s:>10,.0f}/s"
            f"   ({valid:,} valid)"
        )
        if code in ("fi", "rf"):
            start = time.perf_counter()
            for reference in made:
                normalise_for_matching(reference)
            print(
                f"  {'':<8} normalise_for_matching {count / (time.perf_counter() - start):,.0f}/s"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--payments", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--references", type=int, default=100_000)
    args = parser.parse_args()
    bench_matching(args.items, args.payments, args.repeat)
    bench_references(args.references)


if __name__ == "__main__":
    main()
