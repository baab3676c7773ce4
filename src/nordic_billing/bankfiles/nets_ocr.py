# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Nets OCR giro transaction files (Norway, KID payments): reader and writer.

Records are 80 ISO-8859-1 characters starting ``NY``; columns 3-4 hold the service code (``00``
transmission, ``09`` OCR giro, ``21`` AvtaleGiro), 5-6 the transaction or assignment type and
7-8 the record type. A file is one transmission (start ``10``, end ``89``) of assignments (start
``20``, end ``88``); each transaction is amount item 1 (``30``: settlement date, amount in øre,
KID), amount item 2 (``31``: archive reference, payer's bank date, debit account) and, for
transactions with text, amount item 3 (``32``). The assignment and transmission end records
carry counts of transactions and records and the amount total; all are checked.

Nets' archive reference is not unique on its own (the same one can occur twice in a file), so a
payment's ``archive_id`` is ``"<archive reference>/<transmission>/<assignment>/<transaction>"``
with the transmission, assignment and transaction numbers of the file, which Nets never reuses.
Transaction types 18 and 20 (reversals) and a ``-`` sign mark a correction; totals are checked
with the sign applied; a zero amount is refused (it is no payment). AvtaleGiro assignments
(service 21: agreements, payment requests) are not incoming payments and are rejected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from nordic_billing.bankfiles.fixedwidth import (
    DIGITS,
    Field,
    Layout,
    check_encoding,
    digits,
    iter_records,
    parse_date,
)
from nordic_billing.money import MoneyError, from_cents, to_cents
from nordic_billing.payment import BankFileError, Payment

FORMAT = "nets-ocr"
RECORD_LENGTH = 80
REVERSAL_TYPES = frozenset({"18", "20"})
_AVTALEGIRO = {
    "00": "AvtaleGiro payment requests (claims sent to Nets)",
    "24": "AvtaleGiro agreements",
    "36": "AvtaleGiro cancellations",
}


def _layout(name: str, *fields: Field) -> Layout:
    return Layout(
        name, RECORD_LENGTH, (Field("format code", 1, 2, "NY", "NY", True), *fields), FORMAT
    )


TRANSMISSION_START = _layout(
    "transmission start record",
    digits("data transmitter", 9, 16),
    digits("transmission number", 17, 23),
    digits("data recipient", 24, 31),
)
TRANSMISSION_END = _layout(
    "transmission end record",
    digits("transaction count", 9, 16),
    digits("record count", 17, 24),
    digits("amount total", 25, 41),
    digits("Nets date", 42, 47),
)
ASSIGNMENT_START = _layout(
    "assignment start record",
    digits("agreement id", 9, 17),
    digits("assignment number", 18, 24),
    digits("assignment account", 25, 35),
)
ASSIGNMENT_END = _layout(
    "assignment end record",
    digits("transaction count", 9, 16),
    digits("record count", 17, 24),
    digits("amount total", 25, 41),
    digits("Nets date", 42, 47),
)
AMOUNT_ITEM_1 = _layout(
    "amount item 1",
    digits("transaction type", 5, 6),
    digits("transaction number", 9, 15),
    digits("settlement date", 16, 21),
    Field("sign", 32, 32, "[-0]", "0 or -"),
    digits("amount", 33, 49),
    Field("KID", 50, 74, "[0-9 ]", "digits right-aligned in spaces"),
)
AMOUNT_ITEM_2 = _layout(
    "amount item 2",
    digits("transaction type", 5, 6),
    digits("transaction number", 9, 15),
    Field("archive reference", 26, 34, DIGITS, "digits"),
    digits("bank date", 42, 47),
    digits("debit account", 48, 58),
)
AMOUNT_ITEM_3 = _layout(
    "amount item 3",
    digits("transaction type", 5, 6),
    digits("transaction number", 9, 15),
    Field("text", 16, 55),
)


@dataclass
class _Totals:
    """Counts of one assignment or of the whole transmission, checked against its end record."""

    lineno: int
    transactions: int = 0
    records: int = 1  # the start record; every later record, the end record too, adds one
    total: int = 0  # øre, signed

    def check(self, layout: Layout, fields: tuple[str, ...], lineno: int, what: str) -> None:
        """Raise unless the end record ``fields`` (counts and total) agree with what was read."""
        transactions, records, total = int(fields[1]), int(fields[2]), int(fields[3])
        where = f"{layout.name} of the {what} starting on line {self.lineno}"
        if transactions != self.transactions:
            raise layout.error(
                f"{where} says {transactions} transactions, the {what} has {self.transactions}",
                lineno,
            )
        if records != self.records:
            raise layout.error(
                f"{where} says {records} records, the {what} has {self.records}", lineno
            )
        if total != self.total:
            raise layout.error(
                f"{where} says amount total {from_cents(total)}, the transactions "
                f"add up to {from_cents(self.total)}",
                lineno,
            )


@dataclass
class _Transaction:
    """A transaction whose amount items are still being read."""

    lineno: int
    kind: str
    number: str
    settled: dt.date
    negative: bool
    ore: int
    kid: str
    archive: str = ""
    paid: dt.date | None = None
    text: str = ""
    items: set[str] = field(default_factory=set)


def iter_nets_ocr(stream: BinaryIO) -> Iterator[Payment]:
    """Yield the payments of a Nets OCR giro file as they are read.

    A :class:`BankFileError` can come after payments were yielded (end-record totals): see
    :func:`nordic_billing.bankfiles.iter_unchecked`.
    """
    transmission: _Totals | None = None
    transmission_number = ""
    assignment: _Totals | None = None
    assignment_number = account = ""
    pending: _Transaction | None = None
    ended = False

    def payment(tx: _Transaction) -> Payment:
        if "31" not in tx.items:
            raise AMOUNT_ITEM_1.error(
                f"transaction {tx.number} has no amount item 2 (record 31)", tx.lineno
            )
        return Payment(
            account=account,
            archive_id=f"{tx.archive}/{transmission_number}/{assignment_number}/{tx.number}",
            reference=tx.kid,
            amount=from_cents(tx.ore),
            currency="NOK",
            payment_date=tx.paid,
            booking_date=tx.settled,
            payer_name="",
            is_correction=tx.negative or tx.kind in REVERSAL_TYPES,
            source_format=FORMAT,
            source_line=f"line {tx.lineno}",
            message=tx.text,
            reference_source="structured" if tx.kid else "",
        )

    for lineno, line, text in iter_records(stream):
        service, record = text[2:4], text[6:8]
        if ended:
            raise TRANSMISSION_END.error("data after the transmission end record", lineno)
        if transmission is None:
            if text[:8] != "NY000010":
                check_encoding(text, line, lineno, FORMAT)
                raise TRANSMISSION_START.error(
                    "the file must start with a transmission start record NY000010", lineno
                )
            fields = TRANSMISSION_START.parse(text, line, lineno)
            transmission_number = fields[2]
            transmission = _Totals(lineno)
            continue
        transmission.records += 1
        if assignment is not None:
            assignment.records += 1
        if service == "09" and record in ("30", "31", "32"):
            if assignment is None:
                raise AMOUNT_ITEM_1.error("transaction record outside an assignment", lineno)
            if record == "30":
                if pending is not None:
                    yield payment(pending)
                fields = AMOUNT_ITEM_1.parse(text, line, lineno)
                ore = int(fields[5])
                if not ore:
                    raise AMOUNT_ITEM_1.error(
                        "amount is zero: a transaction without money is not a payment", lineno
                    )
                negative = fields[4] == "-"
                pending = _Transaction(
                    lineno=lineno,
                    kind=fields[1],
                    number=fields[2],
                    settled=parse_date(fields[3], "DDMMYY", "settlement date", lineno, FORMAT),
                    negative=negative,
                    ore=ore,
                    kid=fields[6].strip(),
                    items={"30"},
                )
                assignment.transactions += 1
                transmission.transactions += 1
                signed = -ore if negative else ore
                assignment.total += signed
                transmission.total += signed
                continue
            layout = AMOUNT_ITEM_2 if record == "31" else AMOUNT_ITEM_3
            fields = layout.parse(text, line, lineno)
            expected = "30" if record == "31" else "31"
            if pending is None or record in pending.items or expected not in pending.items:
                raise layout.error(f"{layout.name} out of order", lineno)
            if (fields[1], fields[2]) != (pending.kind, pending.number):
                raise layout.error(
                    f"{layout.name} is for transaction {fields[2]} type {fields[1]}, expected "
                    f"transaction {pending.number} type {pending.kind}",
                    lineno,
                )
            pending.items.add(record)
            if record == "31":
                pending.archive = fields[3]
                pending.paid = parse_date(fields[4], "DDMMYY", "bank date", lineno, FORMAT, True)
            else:
                pending.text = fields[3].strip()
        elif text[:8] == "NY090020":
            if assignment is not None:
                raise ASSIGNMENT_START.error(
                    f"assignment start, but the assignment starting on line "
                    f"{assignment.lineno} has no end record",
                    lineno,
                )
            fields = ASSIGNMENT_START.parse(text, line, lineno)
            assignment_number, account = fields[2], fields[3]
            assignment = _Totals(lineno)
        elif text[:8] == "NY090088":
            if assignment is None:
                raise ASSIGNMENT_END.error("assignment end record outside an assignment", lineno)
            if pending is not None:
                yield payment(pending)
                pending = None
            fields = ASSIGNMENT_END.parse(text, line, lineno)
            parse_date(fields[4], "DDMMYY", "Nets date", lineno, FORMAT)
            assignment.check(ASSIGNMENT_END, fields, lineno, "assignment")
            assignment = None
        elif text[:8] == "NY000089":
            if assignment is not None:
                raise TRANSMISSION_END.error(
                    f"transmission end, but the assignment starting on line {assignment.lineno} "
                    "has no end record",
                    lineno,
                )
            fields = TRANSMISSION_END.parse(text, line, lineno)
            parse_date(fields[4], "DDMMYY", "Nets date", lineno, FORMAT)
            transmission.check(TRANSMISSION_END, fields, lineno, "transmission")
            ended = True
        else:
            check_encoding(text, line, lineno, FORMAT)
            if service == "21" and record == "20":
                kind = _AVTALEGIRO.get(text[4:6], "an AvtaleGiro assignment")
                raise ASSIGNMENT_START.error(
                    f"{kind}: not incoming payments, only OCR giro (service 09) is read", lineno
                )
            raise AMOUNT_ITEM_1.error(
                f"unknown record {text[:8]!r} (format code, service {service!r}, "
                f"type {text[4:6]!r}, record type {record!r})",
                lineno,
            )
    if not ended:
        raise BankFileError(
            "the file ends without a transmission end record NY000089", "end of file", FORMAT
        )


@dataclass(frozen=True)
class OcrAssignment:
    """One assignment of a Nets OCR file to write: the payments to one 11-digit account.

    Each payment's ``archive_id`` must start with the 9-digit archive reference (anything after
    a ``/`` is ignored); its ``reference`` is the KID.
    """

    account: str
    payments: Iterable[Payment]
    agreement_id: str = "000000000"


def write_nets_ocr(
    assignments: Iterable[OcrAssignment],
    nets_date: dt.date,
    transmission_number: str = "0000001",
    data_transmitter: str = "00008080",
    data_recipient: str = "00000000",
) -> bytes:
    """Write a Nets OCR giro file with correct end records (LF line ends)."""
    records = [f"NY000010{data_transmitter:0>8}{transmission_number:0>7}{data_recipient:0>8}"]
    all_transactions = all_records = all_total = 0
    for number, assignment in enumerate(assignments, 1):
        records.append(
            f"NY090020{assignment.agreement_id:0>9}{number:07d}{assignment.account:0>11}"
        )
        transactions = total = 0
        start = len(records)
        for tx_number, pay in enumerate(assignment.payments, 1):
            try:
                ore = to_cents(pay.amount)
            except MoneyError:
                ore = 0
            if ore <= 0:
                raise ValueError(f"amount {pay.amount} must be positive with at most 2 decimals")
            if not (pay.reference.isdigit() and len(pay.reference) <= 25):
                raise ValueError(f"KID {pay.reference!r} must be 1 to 25 digits")
            archive = pay.archive_id.split("/")[0]
            if not (archive.isdigit() and len(archive) <= 9):
                raise ValueError(f"archive reference {archive!r} must be 1 to 9 digits")
            if pay.booking_date is None:
                raise ValueError(f"payment {pay.archive_id} has no booking (settlement) date")
            if pay.is_correction:
                kind = "20" if pay.message else "18"
            else:
                kind = "21" if pay.message else "10"
            paid = f"{pay.payment_date:%d%m%y}" if pay.payment_date else "000000"
            sign = "-" if pay.is_correction else "0"
            records.append(
                f"NY09{kind}30{tx_number:07d}{pay.booking_date:%d%m%y}1320100001{sign}"
                f"{ore:017d}{pay.reference:>25}000000"
            )
            records.append(
                f"NY09{kind}31{tx_number:07d}0000000000{archive:0>9}0000000{paid}00000000000"
            )
            if pay.message:
                records.append(f"NY09{kind}32{tx_number:07d}{pay.message[:40]:<40}")
            transactions += 1
            total += -ore if pay.is_correction else ore
        count = len(records) - start + 2
        if total < 0:
            raise ValueError(f"assignment {number} has a negative total")
        records.append(
            f"NY090088{transactions:08d}{count:08d}{total:017d}"
            f"{nets_date:%d%m%y}{nets_date:%d%m%y}{nets_date:%d%m%y}"
        )
        all_transactions += transactions
        all_records += count
        all_total += total
    records.append(
        f"NY000089{all_transactions:08d}{all_records + 2:08d}{all_total:017d}{nets_date:%d%m%y}"
    )
    return "".join(f"{record:0<80}\n" for record in records).encode("latin-1")
