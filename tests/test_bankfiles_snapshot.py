# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The readers' output, pinned: speeding them up must not change a single field or message.

``fixtures/bankfile_outputs.json`` holds what the readers made of every file in ``fixtures``
(each item's type and the ``repr`` of every field, so a ``Decimal("5.0")`` for a
``Decimal("5.00")`` or a ``str`` for a ``date`` shows; or the error's message, location and
format), both one-pass (:func:`iter_unchecked`, with the items yielded before an error) and
validated (:func:`read_bank_file`). Beside each file it holds digests of the same outcomes for
variants made from it, so that the error paths are pinned too: every XML element removed,
doubled, put inside itself, followed by a stray date and amount, or its text replaced; every
fixed-width record removed or doubled and, for KTL, every column of every record replaced by
a letter and by another digit. Two generated files of 6,000 payments (more amounts and dates
than the readers' memos hold, entries of 500 transactions) are pinned by digest.

When a reader is meant to read something differently, regenerate the snapshot with the new code
and review the difference: ``python tests/test_bankfiles_snapshot.py``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from nordic_billing.bankfiles import (
    BankFileError,
    KtlBatch,
    Outgoing,
    iter_unchecked,
    read_bank_file,
    write_camt054,
    write_ktl,
)
from nordic_billing.payment import FailedDebit, Payment

FIXTURES = Path(__file__).parent / "fixtures"
SNAPSHOT = FIXTURES / "bankfile_outputs.json"
NOT_BANK_FILES = {"SOURCES.md", SNAPSHOT.name}


def fixture_names() -> list[str]:
    return sorted(
        path.name
        for path in FIXTURES.iterdir()
        if path.is_file() and path.name not in NOT_BANK_FILES
    )


def describe(item: object) -> list:
    """An item as its type and the ``repr`` of each field."""
    return [
        type(item).__name__,
        {fld.name: repr(getattr(item, fld.name)) for fld in dataclasses.fields(item)},
    ]


def error(exc: BankFileError) -> list:
    return ["BankFileError", exc.message, exc.location, exc.source_format]


def outcome(data: bytes) -> dict:
    """What the one-pass and the validating reader make of ``data``."""
    items = []
    try:
        for item in iter_unchecked(data):
            items.append(describe(item))
        unchecked: list = ["ok"]
    except BankFileError as exc:
        unchecked = error(exc)
    try:
        bank_file = read_bank_file(data)
        checked = [
            bank_file.format,
            *(
                [name, [describe(item) for item in getattr(bank_file, name)]]
                for name in ("payments", "lump_sums", "outgoing", "failed_debits")
            ),
        ]
    except BankFileError as exc:
        checked = error(exc)
    return {"items": items, "end": unchecked, "read_bank_file": checked}


def digest(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


# -- variants -----------------------------------------------------------------------------------


def xml_variants(data: bytes) -> Iterator[tuple[str, bytes]]:
    """Every element but the root removed, doubled, put inside itself, followed by a stray
    date and amount, and (a leaf) its text replaced."""
    root = etree.fromstring(data)
    count = sum(1 for _ in root.iter())
    for index in range(1, count):
        for change in ("remove", "double", "nest", "stray", "text"):
            copy = etree.fromstring(data)
            element = list(copy.iter())[index]
            if change == "remove":
                element.getparent().remove(element)
            elif change == "double":
                element.addnext(etree.fromstring(etree.tostring(element)))
            elif not isinstance(element.tag, str):
                continue  # a comment or processing instruction
            elif change == "nest":
                element.append(etree.fromstring(etree.tostring(element)))
            elif change == "stray":
                # Elements read wherever they are (a date) or under a parent of their own (an
                # amount), where no bank puts them.
                ns = etree.QName(element).namespace
                date = etree.Element(etree.QName(ns, "AccptncDtTm"))
                date.text = "2020-02-02T00:00:00"
                amount = etree.Element(etree.QName(ns, "TxAmt"))
                etree.SubElement(amount, etree.QName(ns, "Amt"), Ccy="EUR").text = "1.00"
                element.addnext(amount)
                element.addnext(date)
            elif len(element):
                continue
            else:
                element.text = "X1" if element.text and element.text[:1].isdigit() else "7"
            yield f"{change} element {index}", etree.tostring(copy, xml_declaration=True)


def line_variants(data: bytes, columns: bool) -> Iterator[tuple[str, bytes]]:
    """Every line removed and doubled; with ``columns`` every column replaced."""
    lines = data.splitlines(keepends=True)
    for number, line in enumerate(lines):
        yield f"remove line {number + 1}", b"".join(lines[:number] + lines[number + 1 :])
        yield f"double line {number + 1}", b"".join(lines[: number + 1] + lines[number:])
        if not columns:
            continue
        for column in range(len(line.rstrip(b"\r\n"))):
            old = line[column : column + 1]
            for new in (b"X", b"1" if old == b"0" else b"0"):
                changed = line[:column] + new + line[column + 1 :]
                yield (
                    f"line {number + 1} column {column + 1} {new.decode()}",
                    b"".join([*lines[:number], changed, *lines[number + 1 :]]),
                )


def variants(data: bytes) -> Iterator[tuple[str, bytes]]:
    if data.lstrip().startswith(b"<"):
        yield from xml_variants(data)
    elif data[:1] == b"0":
        yield from line_variants(data, columns=True)
    elif data.startswith(b"NY"):
        yield from line_variants(data, columns=False)


# -- generated files ----------------------------------------------------------------------------

NAMES = ("VIRTANEN MATTI", "KORHONEN & ANNA", "MÄKINEN JUHA", "NIEMINEN <LIISA>", "ÅSTRÖM EEVA")


def generated_payment(number: int, account: str, gaps: bool = True) -> Payment:
    """Payment ``number``; with ``gaps`` some have no reference (KTL needs one)."""
    day = dt.date(2026, 1, 1) + dt.timedelta(days=number // 1000)
    base = str(100000 + number)
    check = sum(int(d) * (7, 3, 1)[i % 3] for i, d in enumerate(reversed(base)))
    return Payment(
        account=account,
        archive_id=f"2601{number:012d}",
        reference=base + str((10 - check % 10) % 10) if number % 7 or not gaps else "",
        amount=Decimal(1 + number * 37 % 90000).scaleb(-2),
        currency="EUR",
        payment_date=None if number % 11 == 0 else day - dt.timedelta(days=number % 5),
        booking_date=day,
        payer_name=NAMES[number % len(NAMES)] if number % 13 else "",
        is_correction=number % 97 == 96,
        source_format="",
        source_line="",
        message=f"Jäsenmaksu {number}\nrivi 2" if number % 3 == 0 else "",
    )


def generated_ktl() -> bytes:
    batches = []
    for n in range(3):
        account = f"{47300010416310 + n:014d}"
        payments = [generated_payment(n * 2000 + i, account, gaps=False) for i in range(2000)]
        failed = [
            FailedDebit(
                account=account,
                archive_id=f"2601{n * 2000 + i:011d}F",
                reference=payment.reference,
                amount=payment.amount,
                currency="EUR",
                payment_date=payment.payment_date,
                booking_date=payment.booking_date,
                payer_name=payment.payer_name,
                return_code="19"[i % 2],
                source_format="",
                source_line="",
            )
            for i, payment in enumerate(payments[:20])
        ]
        batches.append(KtlBatch(payments, dt.datetime(2026, 1, 2, 6, n), failed_debits=failed))
    return write_ktl(batches, newline=b"\n")


def generated_camt054() -> bytes:
    payments = [generated_payment(i, "") for i in range(6000)]
    outgoing = [
        Outgoing(
            account="",
            archive_id=f"OUT{i:05d}",
            reference="RF18539007547034",
            end_to_end_id=f"E2E{i}" if i % 2 else "",
            creditor_name="Kerho ry",
            amount=Decimal(100 + i).scaleb(-2),
            currency="EUR",
            booking_date=dt.date(2026, 1, 9),
            source_format="",
            source_line="",
        )
        for i in range(30)
    ]
    return b"".join(write_camt054("FI1431313001234567", payments, outgoing=outgoing))


GENERATED: dict[str, Callable[[], bytes]] = {
    "generated.ktl": generated_ktl,
    "generated.camt054": generated_camt054,
}


# -- snapshot -----------------------------------------------------------------------------------


def fixture_snapshot(name: str) -> dict:
    data = (FIXTURES / name).read_bytes()
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "outcome": outcome(data),
        "variants": lines_of([digest(outcome(variant)) for _label, variant in variants(data)]),
    }


def lines_of(digests: list[str], per_line: int = 12) -> list[str]:
    """Digests a dozen to a line, for a snapshot that diffs line by line."""
    return [" ".join(digests[i : i + per_line]) for i in range(0, len(digests), per_line)]


def make_snapshot() -> dict:
    return {
        "fixtures": {name: fixture_snapshot(name) for name in fixture_names()},
        "generated": {name: digest(outcome(make())) for name, make in GENERATED.items()},
    }


@pytest.fixture(scope="module")
def snapshot() -> dict:
    return json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def test_every_fixture_is_pinned(snapshot: dict) -> None:
    assert (
        sorted(snapshot["fixtures"]) == fixture_names()
    ), "a fixture was added or removed: regenerate the snapshot (see the module docstring)"


@pytest.mark.parametrize("name", fixture_names())
def test_fixture_reads_as_pinned(name: str, snapshot: dict) -> None:
    pinned = snapshot["fixtures"].get(name)
    if pinned is None:
        pytest.fail(f"{name} is not in the snapshot: regenerate it (see the module docstring)")
    data = (FIXTURES / name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == pinned["sha256"], f"{name} changed"
    assert outcome(data) == pinned["outcome"]
    pinned_variants = " ".join(pinned["variants"]).split()
    made = list(variants(data))
    assert len(made) == len(pinned_variants)
    changed = {}
    for (label, variant), pinned_digest in zip(made, pinned_variants, strict=True):
        result = outcome(variant)
        if digest(result) != pinned_digest:
            changed[label] = result
    assert not changed, f"{len(changed)} variants read differently, the first: " + json.dumps(
        next(iter(changed.items())), ensure_ascii=False, indent=1
    )


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_file_reads_as_pinned(name: str, snapshot: dict) -> None:
    result = outcome(GENERATED[name]())
    assert len(result["items"]) > 6000
    assert digest(result) == snapshot["generated"][name]


if __name__ == "__main__":
    SNAPSHOT.write_text(
        json.dumps(make_snapshot(), ensure_ascii=False, indent=1, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    print(f"wrote {SNAPSHOT}", file=sys.stderr)
