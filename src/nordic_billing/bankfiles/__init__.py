# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Incoming-payment bank files -> :class:`~nordic_billing.payment.Payment` records.

Formats, recognised from the content (never the file name): KTL viitesiirto (``"ktl"``),
camt.054 notifications and camt.053 statements (``"camt.054"``, ``"camt.053"``) and Nets OCR
giro (``"nets-ocr"``). Every reader is strict: a malformed file raises
:class:`~nordic_billing.payment.BankFileError` naming the line or element.

A *source* is ``bytes`` (not copied), a path (``str`` or ``os.PathLike``) or a seekable binary
file. Readers stream: memory stays flat however large the file, except for the list that
:func:`read_payments` returns.

Which function to use:

* :func:`read_payments` / :func:`read_bank_file`: everything in a list, returned only when the
  whole file is valid.
* :func:`iter_payments` / :func:`iter_records`: flat memory and still all-or-nothing: they read
  the source twice, first validating it in full, and yield only once it proved valid.
* :func:`iter_unchecked`: one pass, items yielded as read. The contract: a ``BankFileError`` may
  come *after* items were yielded (a sum record or summary at the end, truncated XML), so the
  caller must treat nothing as final before the iterator is exhausted, e.g. stage rows in a
  database transaction and commit only after the loop ended without error.

Besides payments, readers yield what a bank file reports that is not an incoming payment, so
that nothing in it passes unseen: :class:`LumpSum` (a camt.053 entry itemised elsewhere),
:class:`Outgoing` (a transfer going out) and :class:`FailedDebit` (a direct debit the payer's
bank refused: no money came in).

An archive id is the identity of a payment on its account: two payments (or two failed debits)
of one file with the same account, archive id and correction flag make the file refused by the
validating readers (:func:`read_bank_file`, :func:`iter_records` and their wrappers), as the
second would otherwise be taken for a duplicate of the first and never applied.
:func:`iter_unchecked` does not check this, so that its memory stays flat.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO

from lxml import etree

from nordic_billing.bankfiles.camt import LumpSum, Outgoing, iter_camt, write_camt054
from nordic_billing.bankfiles.ktl import KtlBatch, iter_ktl, write_ktl
from nordic_billing.bankfiles.nets_ocr import OcrAssignment, iter_nets_ocr, write_nets_ocr
from nordic_billing.payment import BankFileError, FailedDebit, Payment

__all__ = [
    "BankFile",
    "BankFileError",
    "FailedDebit",
    "KtlBatch",
    "LumpSum",
    "OcrAssignment",
    "Outgoing",
    "Payment",
    "Source",
    "detect_format",
    "iter_payments",
    "iter_records",
    "iter_unchecked",
    "read_bank_file",
    "read_payments",
    "write_camt054",
    "write_ktl",
    "write_nets_ocr",
]

Source = bytes | str | os.PathLike | BinaryIO
HEAD_SIZE = 65536
_XML_MESSAGES = {
    "BkToCstmrDbtCdtNtfctn": "camt.054",
    "BkToCstmrStmt": "camt.053",
}
_XML_REJECTED = {
    "BkToCstmrAcctRpt": "camt.052 intraday account report: entries are not final; "
    "read the camt.054 notification or camt.053 statement instead",
    "CstmrCdtTrfInitn": "pain.001 payment order: an outgoing payment file, not a bank file "
    "of incoming payments",
    "CstmrPmtStsRpt": "pain.002 payment status report: not a bank file of incoming payments",
}
_AVTALEGIRO = {
    b"00": "payment requests (claims)",
    b"24": "agreements",
    b"36": "cancellations",
}


@dataclass(frozen=True)
class BankFile:
    """A fully read and validated bank file."""

    format: str
    payments: list[Payment]
    lump_sums: list[LumpSum]  # camt.053 entries itemised elsewhere; never counted as payments
    outgoing: list[Outgoing] = field(default_factory=list)  # camt transfers going out
    failed_debits: list[FailedDebit] = field(default_factory=list)  # KTL refused debits


def detect_format(head: bytes) -> str:
    """Name the format of a bank file from its first bytes (the first 64 KiB are plenty).

    Returns ``"ktl"``, ``"camt.054"``, ``"camt.053"`` or ``"nets-ocr"``; raises
    :class:`BankFileError` for an empty file, an unknown format, or a known file that carries no
    incoming payments (Nets AvtaleGiro, pain.001, camt.052).
    """
    if not head.strip():
        raise BankFileError("the file is empty")
    for bom, name in ((b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"), (b"\xef\xbb\xbf", "UTF-8")):
        if head.startswith(bom):
            if head[len(bom) :].lstrip(b"\x00 \t\r\n").startswith(b"<"):
                return _detect_xml(head)
            raise BankFileError(
                f"{name} byte-order mark: KTL and Nets files are ISO-8859-1 text", "line 1"
            )
    if head.lstrip().startswith(b"<"):
        return _detect_xml(head)
    if head.startswith(b"NY000010"):
        lines = head.split(b"\n", 2)
        second = lines[1] if len(lines) > 1 else b""
        if second[2:4] == b"21":
            kind = _AVTALEGIRO.get(second[4:6], "assignment")
            raise BankFileError(
                f"Nets AvtaleGiro {kind} file (service code 21): not incoming payments; "
                "only OCR giro transaction files (service code 09) are read",
                "line 2",
                "nets-ocr",
            )
        return "nets-ocr"
    if re.match(rb"0[0-9]{10}", head):
        return "ktl"
    if head.startswith(b"T00"):
        raise BankFileError("TITO account statement: not supported, read KTL or camt.054")
    sample = head[:24].decode("latin-1").encode("unicode_escape").decode("ascii")
    raise BankFileError(
        f"unknown bank-file format (starts {sample!r}): expected KTL, camt.053/camt.054 XML "
        "or Nets OCR giro"
    )


def _detect_xml(head: bytes) -> str:
    parser = etree.XMLPullParser(events=("start",), resolve_entities=False, no_network=True)
    names = []
    try:
        parser.feed(head)
        for _event, element in parser.read_events():
            names.append(etree.QName(element).localname)
            if len(names) == 2:
                break
    except etree.XMLSyntaxError as exc:
        raise BankFileError(f"malformed XML: {exc.msg}", f"line {exc.lineno}", "xml") from None
    if len(names) == 2 and names[0] == "Document":
        if names[1] in _XML_MESSAGES:
            return _XML_MESSAGES[names[1]]
        if names[1] in _XML_REJECTED:
            raise BankFileError(_XML_REJECTED[names[1]], f"Document/{names[1]}", "xml")
    found = "/".join(names) or "no element"
    raise BankFileError(
        f"XML document {found}: not a camt.053 statement or camt.054 notification", "", "xml"
    )


@contextmanager
def _open(source: Source) -> Iterator[BinaryIO]:
    if isinstance(source, bytes):
        yield io.BytesIO(source)
    elif isinstance(source, str | os.PathLike):
        with open(source, "rb") as stream:
            yield stream
    elif hasattr(source, "read") and hasattr(source, "seek"):
        yield source
    else:
        raise TypeError(f"not bytes, a path or a seekable binary file: {type(source).__name__}")


Item = Payment | LumpSum | Outgoing | FailedDebit


def _records(stream: BinaryIO) -> tuple[str, Iterator[Item]]:
    start = stream.tell()
    source_format = detect_format(stream.read(HEAD_SIZE))
    stream.seek(start)
    if source_format == "ktl":
        records = iter_ktl(stream)
    elif source_format == "nets-ocr":
        records = iter_nets_ocr(stream)
    else:
        records = iter_camt(stream, source_format)
    return source_format, records


def _unique(records: Iterator[Item], source_format: str) -> Iterator[Item]:
    """Pass ``records`` on, refusing a second payment or failed debit with the identity
    (account, archive id, correction flag) of an earlier one of the file.

    Only hashes of the identities are kept (a few dozen bytes per payment); two
    different identities share a hash with a probability of about 1 in 10**9 for a file of
    200,000 payments, and then the file is refused with this message and read on another try
    (hashes of text differ between processes).
    """
    seen: set[int] = set()
    add = seen.add
    for item in records:
        kind = type(item)
        if kind is Payment or kind is FailedDebit:
            key = hash(
                (item.account, item.archive_id, item.is_correction if kind is Payment else None)
            )
            if key in seen:
                raise BankFileError(
                    f"archive id {item.archive_id!r} on account {item.account} appears twice "
                    "in the file: the second payment would be taken for a duplicate of the "
                    "first and never applied; ask the bank for a corrected file",
                    item.source_line,
                    source_format,
                )
            add(key)
        yield item


def iter_unchecked(source: Source) -> Iterator[Item]:
    """Yield payments (and camt.053 lump sums) in one pass, as they are read.

    Not all-or-nothing: a :class:`BankFileError` may follow items already yielded. Use it only
    when the caller itself discards everything on an error; otherwise use :func:`iter_records`.
    """
    with _open(source) as stream:
        yield from _records(stream)[1]


def iter_records(source: Source) -> Iterator[Item]:
    """Yield payments (and camt.053 lump sums) of a file proven valid in full beforehand.

    The source is read twice: a validating pass that keeps nothing, then the yielding pass. A
    :class:`BankFileError` is raised before the first item, never after.
    """
    with _open(source) as stream:
        start = stream.tell()
        source_format, records = _records(stream)
        for _item in _unique(records, source_format):
            pass
        stream.seek(start)
        yield from _records(stream)[1]


def iter_payments(source: Source) -> Iterator[Payment]:
    """Like :func:`iter_records`, payments only."""
    for item in iter_records(source):
        if isinstance(item, Payment):
            yield item


def read_bank_file(source: Source) -> BankFile:
    """Read and validate a whole file; raises :class:`BankFileError`, never a partial result."""
    payments: list[Payment] = []
    lump_sums: list[LumpSum] = []
    outgoing: list[Outgoing] = []
    failed_debits: list[FailedDebit] = []
    with _open(source) as stream:
        source_format, records = _records(stream)
        for item in _unique(records, source_format):
            if isinstance(item, Payment):
                payments.append(item)
            elif isinstance(item, Outgoing):
                outgoing.append(item)
            elif isinstance(item, FailedDebit):
                failed_debits.append(item)
            else:
                lump_sums.append(item)
    return BankFile(source_format, payments, lump_sums, outgoing, failed_debits)


def read_payments(source: Source) -> list[Payment]:
    """The payments of a whole, valid file; raises :class:`BankFileError` otherwise."""
    return read_bank_file(source).payments
