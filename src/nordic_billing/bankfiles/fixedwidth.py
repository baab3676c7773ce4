# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Fixed-width record layouts shared by the KTL and Nets OCR readers.

A :class:`Layout` turns one ISO-8859-1 record into its field strings with a single compiled
regular expression (the fast path). Only when that fails does it look field by field for the
first problem, so that the error names the column range and says what was expected.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import BinaryIO

from nordic_billing.payment import BankFileError

DIGITS = "[0-9]"
TEXT = "."  # any character: control characters are rejected before fields are matched
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # C0 and C1: not printable ISO-8859-1
_UTF8_HINT = "; the record looks UTF-8 encoded, bank files of this kind are ISO-8859-1"


@dataclass(frozen=True)
class Field:
    """One field of a record, with 1-based inclusive columns as in the bank's documentation."""

    name: str
    start: int
    end: int
    pattern: str = TEXT  # regex for one character, or a whole-field regex when ``whole``
    expect: str = "printable text"
    whole: bool = False

    @property
    def regex(self) -> str:
        """The field's regex, covering exactly its width."""
        if self.whole:
            return f"({self.pattern})"
        return f"({self.pattern}{{{self.end - self.start + 1}}})"


@dataclass(frozen=True)
class Layout:
    """A record type: its length and its fields in column order; gaps are filler text."""

    name: str
    length: int
    fields: tuple[Field, ...]
    source_format: str
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)  # the whole record

    def __post_init__(self) -> None:
        parts = []
        column = 1
        for fld in self.fields:
            if fld.start > column:
                parts.append(f"{TEXT}{{{fld.start - column}}}")
            parts.append(fld.regex)
            column = fld.end + 1
        if column <= self.length:
            parts.append(f"{TEXT}{{{self.length - column + 1}}}")
        object.__setattr__(self, "regex", re.compile("".join(parts) + r"\Z", re.DOTALL))

    def parse(self, text: str, line: bytes, lineno: int) -> tuple[str, ...]:
        """Return the field strings of ``text`` (``line`` decoded), or raise a precise error."""
        if not text.isprintable():  # fast: C0, C1, NBSP and soft hyphen are "not printable"
            check_encoding(text, line, lineno, self.source_format)
        match = self.regex.match(text)
        if match is not None:
            return match.groups()
        raise self.diagnose(text, line, lineno)

    def diagnose(self, text: str, line: bytes, lineno: int) -> BankFileError:
        """Explain why ``text`` is not a valid record of this layout."""
        check_encoding(text, line, lineno, self.source_format)
        if len(text) != self.length:
            utf8 = _utf8_text(line)
            hint = _UTF8_HINT if utf8 is not None and len(utf8) == self.length else ""
            return self.error(
                f"{self.name} is {len(text)} characters long, expected {self.length}{hint}",
                lineno,
            )
        for fld in self.fields:
            value = text[fld.start - 1 : fld.end]
            if not re.fullmatch(fld.regex, value, re.DOTALL):
                return self.error(
                    f"{fld.name} (columns {fld.start}-{fld.end}) is {value!r}, "
                    f"expected {fld.expect}",
                    lineno,
                )
        return self.error(f"{self.name} is not valid", lineno)  # pragma: no cover

    def error(self, message: str, lineno: int) -> BankFileError:
        """A :class:`BankFileError` located at ``lineno``."""
        return BankFileError(message, f"line {lineno}", self.source_format)


def digits(name: str, start: int, end: int) -> Field:
    """A zero-padded numeric field."""
    return Field(name, start, end, DIGITS, "digits")


def check_encoding(text: str, line: bytes, lineno: int, source_format: str) -> None:
    """Raise when ``text`` holds C0 or C1 control characters, naming UTF-8 when that explains
    them (UTF-8 encoded letters such as ``Ä`` turn into a C1 control in ISO-8859-1)."""
    bad = _CONTROL.search(text)
    if bad is None:
        return
    hint = _UTF8_HINT if _utf8_text(line) is not None else "; the file is not ISO-8859-1 text"
    raise BankFileError(
        f"character {ord(bad.group()):#04x} at column {bad.start() + 1} "
        f"is not printable ISO-8859-1{hint}",
        f"line {lineno}",
        source_format,
    )


def _utf8_text(line: bytes) -> str | None:
    """``line`` decoded as UTF-8 when it is valid UTF-8 with non-ASCII characters, else None."""
    if line.isascii():
        return None
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return None


def iter_records(stream: BinaryIO) -> Iterator[tuple[int, bytes, str]]:
    """Yield ``(line number, raw record, decoded record)``; CR LF or LF; blank lines skipped."""
    for lineno, raw in enumerate(stream, 1):
        line = raw.rstrip(b"\r\n")
        if line:
            yield lineno, line, line.decode("latin-1")


def _century(yy: int) -> int:
    """Two-digit years 69-99 are 19xx, 00-68 are 20xx (the POSIX ``%y`` pivot)."""
    return 1900 + yy if yy >= 69 else 2000 + yy


@lru_cache(maxsize=4096)
def _yymmdd(value: str) -> dt.date | None:
    try:
        return dt.date(_century(int(value[0:2])), int(value[2:4]), int(value[4:6]))
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _ddmmyy(value: str) -> dt.date | None:
    try:
        return dt.date(_century(int(value[4:6])), int(value[2:4]), int(value[0:2]))
    except ValueError:
        return None


def parse_date(
    value: str, order: str, what: str, lineno: int, source_format: str, optional: bool = False
) -> dt.date | None:
    """Parse a six-digit date in ``order`` ``"YYMMDD"`` or ``"DDMMYY"``.

    ``"000000"`` gives None when ``optional``; any other impossible date raises.
    """
    date = _yymmdd(value) if order == "YYMMDD" else _ddmmyy(value)
    if date is not None:
        return date
    if optional and value == "000000":
        return None
    raise BankFileError(
        f"{what} {value!r} is not a valid {order} date", f"line {lineno}", source_format
    )
