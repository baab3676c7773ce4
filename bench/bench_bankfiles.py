# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Bank-file reader throughput and memory: KTL and camt.054 at 50k and 200k payments.

Run ``python bench/bench_bankfiles.py [--sizes 50000 200000] [--repeat 3]``. Files are generated
into a temporary directory; each measurement runs in a fresh child process that reads the file
from disk with the one-pass streaming reader (:func:`~nordic_billing.bankfiles.iter_unchecked`),
so that its peak resident memory (libxml2's allocations included) shows whether memory stays
flat as files grow. Rates are given per CPU second (steadier on a busy machine) and per wall
second, each the best of ``--repeat`` runs. The validated readers cost twice this
(``iter_records``: two passes) or keep the list (``read_payments``). Prints figures, asserts
nothing. Goals: KTL >= 200k records/s, camt.054 >= 50k transactions/s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from nordic_billing.bankfiles import KtlBatch, iter_unchecked, write_camt054, write_ktl
from nordic_billing.payment import Payment

NAMES = ("VIRTANEN MATTI", "KORHONEN ANNA", "MÄKINEN JUHA", "NIEMINEN LIISA", "HÄMÄLÄINEN EEVA")
ACCOUNTS = 4


def fi_reference(base: int) -> str:
    """Finnish national reference: base + 7-3-1 check digit."""
    digits = str(base)
    weights = (7, 3, 1)
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(reversed(digits)))
    return digits + str((10 - total % 10) % 10)


class GeneratedPayments(Sequence[Payment]):
    """``count`` deterministic payments, made on access so that generating costs no memory."""

    def __init__(self, count: int, account: str, start: int = 0) -> None:
        self.count = count
        self.account = account
        self.start = start

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> Payment:  # type: ignore[override]
        if not 0 <= index < self.count:
            raise IndexError(index)
        number = self.start + index
        day = dt.date(2026, 1, 1) + dt.timedelta(days=number // 50000)
        return Payment(
            account=self.account,
            archive_id=f"2601{number:012d}",
            reference=fi_reference(100000 + number),
            amount=Decimal(1000 + number % 9000).scaleb(-2),
            currency="EUR",
            payment_date=day - dt.timedelta(days=1),
            booking_date=day,
            payer_name=NAMES[number % len(NAMES)],
            is_correction=number % 500 == 499,
            source_format="",
            source_line="",
        )


def make_ktl(path: Path, count: int) -> None:
    per_account = count // ACCOUNTS
    batches = [
        KtlBatch(
            GeneratedPayments(per_account, f"{47300010416310 + n:014d}", n * per_account),
            dt.datetime(2026, 1, 2, 6, 0),
        )
        for n in range(ACCOUNTS)
    ]
    path.write_bytes(write_ktl(batches))


def make_camt(path: Path, count: int) -> None:
    with path.open("wb") as out:
        for chunk in write_camt054("FI1431313001234567", GeneratedPayments(count, "")):
            out.write(chunk)


def peak_rss_kib() -> int:
    """This process's peak resident memory. ``VmHWM`` where Linux gives it: unlike
    ``ru_maxrss`` it starts afresh at ``exec`` instead of inheriting the parent's peak."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child(path: str, repeat: int) -> None:
    """Parse ``path`` ``repeat`` times and print the best times as JSON (in a fresh process)."""
    before = peak_rss_kib()
    walls, cpus = [], []
    for _run in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        records = sum(1 for _item in iter_unchecked(path))
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    figures = {
        "records": records,
        "wall": min(walls),
        "cpu": min(cpus),
        "rss_before_kib": before,
        "rss_peak_kib": peak_rss_kib(),
    }
    print(json.dumps(figures))


def measure(path: Path, repeat: int) -> dict:
    """Run :func:`child` on ``path`` in a fresh interpreter."""
    command = [sys.executable, __file__, "--child", str(path), "--repeat", str(repeat)]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50000, 200000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per file; the best counts")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.repeat)
        return
    print(
        f"{'format':9} {'payments':>9} {'MB':>6} {'CPU s':>6} {'wall s':>6} {'records/s CPU':>14} "
        f"{'records/s wall':>15} {'RSS before MiB':>15} {'RSS peak MiB':>13}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in (("ktl", make_ktl), ("camt.054", make_camt)):
            for size in args.sizes:
                path = Path(tmp) / f"{name}-{size}"
                make(path, size)
                run = measure(path, args.repeat)
                print(
                    f"{name:9} {run['records']:>9} {path.stat().st_size / 1e6:>6.1f} "
                    f"{run['cpu']:>6.2f} {run['wall']:>6.2f} {run['records'] / run['cpu']:>14,.0f} "
                    f"{run['records'] / run['wall']:>15,.0f} {run['rss_before_kib'] / 1024:>15.1f} "
                    f"{run['rss_peak_kib'] / 1024:>13.1f}"
                )
                path.unlink()


if __name__ == "__main__":
    main()
