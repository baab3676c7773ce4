# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Payment reference numbers of Finland, Norway and Sweden, and the ISO 11649 RF reference.

Kinds, by their code in :data:`KINDS`: ``fi`` Finnish national reference (viitenumero, 7-3-1),
``rf`` ISO 11649 creditor reference, ``kid10`` and ``kid11`` Norwegian KID with MOD10 (Luhn) or
MOD11 check digit, ``ocr`` Swedish OCR reference (Luhn) and ``ocr_len`` Swedish OCR reference with
length digit. Every kind offers the same four operations:

``make(base)``
    append the check digit(s) to a base number; raises :class:`InvalidReferenceError` when the
    base breaks the rules of the kind (length, characters).
``check(value) -> bool``
    whether a reference is valid; whitespace is ignored.
``validate(value) -> str``
    the strict variant: returns the compact reference or raises :class:`InvalidReferenceError`
    with a sentence a person can act on.
``format(value) -> str``
    the print form (validated first).

Print forms: a Finnish national reference is printed in groups of five digits counted from the
right (``20240 00068``), as on the Finnish bank transfer form. An RF reference is printed in
groups of four characters from the left (``RF95 2024 0000 71``): ISO 11649 gives that grouping,
the same as an IBAN's, and it is what Odoo's own RF formatting produces. KID and OCR numbers have
no grouping: they are printed as they are.

:func:`normalise_for_matching` turns any reference, as written on an invoice or as received from a
bank, into the key under which payments and open items are matched.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from itertools import cycle
from operator import mul
from string import ascii_uppercase

from stdnum import luhn


class InvalidReferenceError(ValueError):
    """A reference, or a base to make one from, that breaks the rules of its kind.

    (Not named ``ReferenceError``, which would shadow the Python built-in of that name.)

    ``kind`` is the code of the kind in :data:`KINDS` and ``value`` the text as it was given.
    """

    def __init__(self, message: str, *, kind: str, value: str):
        self.message = message
        self.kind = kind
        self.value = value
        super().__init__(message)


def compact(value: str) -> str:
    """The reference without any whitespace, upper-cased (RF letters are case-insensitive)."""
    return "".join(value.split()).upper()


def _is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


_LETTER_VALUES = str.maketrans({letter: str(10 + n) for n, letter in enumerate(ascii_uppercase)})


def _rf_remainder(body: str, check: str) -> int:
    """ISO 7064 MOD 97-10 remainder of body + ``RF`` + check digits, letters as A=10 .. Z=35."""
    digits = body if body.isdigit() else body.translate(_LETTER_VALUES)
    return int(f"{digits}2715{check}") % 97


def _weighted_sum(base: str, weights: tuple[int, ...]) -> int:
    """Sum of the digits of ``base`` times ``weights`` repeating from the right."""
    return sum(map(mul, cycle(weights), map(int, reversed(base))))


def _group(text: str, size: int, *, from_right: bool) -> str:
    if from_right:
        head = len(text) % size
        parts = [text[:head]] if head else []
        parts += [text[i : i + size] for i in range(head, len(text), size)]
        return " ".join(parts)
    return " ".join(text[i : i + size] for i in range(0, len(text), size))


class ReferenceKind(ABC):
    """One kind of reference number: the interface shared by all entries of :data:`KINDS`."""

    code: str
    label: str

    @abstractmethod
    def make(self, base: str) -> str:
        """The reference made from ``base`` by adding the check digit(s)."""

    @abstractmethod
    def validate(self, value: str) -> str:
        """The compact reference, or :class:`InvalidReferenceError` when it is not valid."""

    @abstractmethod
    def format(self, value: str) -> str:
        """The print form of a valid reference."""

    def check(self, value: str) -> bool:
        """Whether ``value`` is a valid reference of this kind."""
        try:
            self.validate(value)
        except InvalidReferenceError:
            return False
        return True

    def _error(self, value: str, problem: str) -> InvalidReferenceError:
        return InvalidReferenceError(
            f"{self.label} {value!r}: {problem}", kind=self.code, value=value
        )


@dataclass(frozen=True)
class CheckDigitKind(ReferenceKind):
    """A numeric reference: a base of digits followed by a suffix computed from the base.

    ``suffix`` returns the check digit (or, for the Swedish OCR with length digit, the length digit
    and the check digit) for a base. ``group_from_right`` is the group size of the print form, or
    0 for none.
    """

    code: str
    label: str
    min_base: int
    max_base: int
    suffix: Callable[[str], str]
    suffix_len: int = 1
    group_from_right: int = 0

    def make(self, base: str) -> str:
        digits = compact(base)
        if not digits:
            raise self._error(base, "the base is empty.")
        if not _is_digits(digits):
            raise self._error(base, "the base may contain digits only.")
        if not self.min_base <= len(digits) <= self.max_base:
            raise self._error(
                base,
                f"the base has {len(digits)} digits; "
                f"{self.min_base} to {self.max_base} are allowed.",
            )
        return digits + self.suffix(digits)

    def validate(self, value: str) -> str:
        text = compact(value)
        body, given = text[: -self.suffix_len], text[-self.suffix_len :]
        low, high = self.min_base + self.suffix_len, self.max_base + self.suffix_len
        if not text:
            raise self._error(value, "the reference is empty.")
        if not _is_digits(body):
            raise self._error(value, "only digits are allowed before the check digit.")
        if not low <= len(text) <= high:
            raise self._error(value, f"it has {len(text)} characters; {low} to {high} are allowed.")
        expected = self.suffix(body)
        if given != expected:
            what = "length and check digits are" if self.suffix_len == 2 else "check digit is"
            raise self._error(value, f"the {what} {given!r} but should be {expected!r}.")
        return text

    def format(self, value: str) -> str:
        text = self.validate(value)
        if not self.group_from_right:
            return text
        return _group(text, self.group_from_right, from_right=True)


@dataclass(frozen=True)
class CreditorReferenceKind(ReferenceKind):
    """ISO 11649 creditor reference: ``RF``, two check digits, a body of up to 21 letters or
    digits; valid when body + ``RF`` + check digits, letters as numbers, is 1 modulo 97."""

    code: str = "rf"
    label: str = "RF creditor reference"

    def make(self, base: str) -> str:
        body = compact(base)
        if not (body.isascii() and body.isalnum()):
            raise self._error(base, "the base may contain letters A-Z and digits only.")
        if len(body) > 21:
            raise self._error(base, f"the base has {len(body)} characters; at most 21 are allowed.")
        return f"RF{98 - _rf_remainder(body, '00'):02d}{body}"

    def validate(self, value: str) -> str:
        text = compact(value)
        if not text.startswith("RF"):
            raise self._error(value, "it must start with RF.")
        check, body = text[2:4], text[4:]
        if not _is_digits(check) or len(check) != 2:
            raise self._error(value, "RF must be followed by two check digits.")
        if not body or not (body.isascii() and body.isalnum()) or len(body) > 21:
            raise self._error(value, "after the check digits come 1 to 21 letters or digits.")
        if _rf_remainder(body, check) != 1:
            expected = f"{98 - _rf_remainder(body, '00'):02d}"
            raise self._error(value, f"the check digits are {check!r} but should be {expected!r}.")
        return text

    def format(self, value: str) -> str:
        return _group(self.validate(value), 4, from_right=False)


def fi_check_digit(base: str) -> str:
    """Finnish national reference check digit: weights 7, 3, 1 repeating from the right, the
    difference of the weighted sum to the next multiple of ten."""
    return str(-_weighted_sum(base, (7, 3, 1)) % 10)


def kid_mod11_check_digit(base: str) -> str:
    """Norwegian KID MOD11 check digit: weights 2..7 repeating from the right, ``11 - sum mod 11``;
    11 gives ``0`` and 10 gives ``-``."""
    rest = 11 - _weighted_sum(base, (2, 3, 4, 5, 6, 7)) % 11
    return "-" if rest == 10 else str(rest % 11)


def ocr_length_and_check_digits(base: str) -> str:
    """Swedish OCR length digit and check digit: the length digit is the total length (base,
    length digit and check digit) modulo 10; the Luhn check digit covers base and length digit."""
    with_length = base + str((len(base) + 2) % 10)
    return with_length[-1] + luhn.calc_check_digit(with_length)


FI = CheckDigitKind(
    code="fi",
    label="Finnish reference",
    min_base=3,
    max_base=19,
    suffix=fi_check_digit,
    group_from_right=5,
)
RF = CreditorReferenceKind()
KID10 = CheckDigitKind(
    code="kid10", label="KID (MOD10)", min_base=1, max_base=24, suffix=luhn.calc_check_digit
)
KID11 = CheckDigitKind(
    code="kid11", label="KID (MOD11)", min_base=1, max_base=24, suffix=kid_mod11_check_digit
)
OCR = CheckDigitKind(
    code="ocr", label="OCR reference", min_base=1, max_base=24, suffix=luhn.calc_check_digit
)
OCR_LEN = CheckDigitKind(
    code="ocr_len",
    label="OCR reference with length digit",
    min_base=1,
    max_base=23,
    suffix=ocr_length_and_check_digits,
    suffix_len=2,
)

#: Every kind by its code, for callers that get the kind as text (command line, settings).
KINDS: dict[str, ReferenceKind] = {kind.code: kind for kind in (FI, RF, KID10, KID11, OCR, OCR_LEN)}


def normalise_for_matching(reference: str) -> str:
    """The key under which a payment's reference and an open item's reference are compared.

    Whitespace is dropped and letters are upper-cased. A purely numeric reference (Finnish
    national, KID, OCR) loses its leading zeros, which carry no meaning (a KTL file pads the
    reference to 20 digits). A valid RF reference whose body is a valid Finnish national reference
    becomes that national reference, so that ``RF95 2024 0000 71`` and ``2024000071`` match; any
    other valid RF reference keeps its RF form with the body's leading zeros dropped. Anything
    else (free text, an RF with wrong check digits) is only compacted. The function is idempotent.
    """
    text = compact(reference)
    if _is_digits(text):
        return text.lstrip("0") or "0"
    if text.startswith("RF") and RF.check(text):
        body = text[4:].lstrip("0") or "0"
        # A national reference of 4 to 20 digits once padded with (meaningless) leading zeros;
        # the padding does not change the weighted sum, so the check digit is tested directly.
        if _is_digits(body) and len(body) <= 20 and fi_check_digit(body[:-1]) == body[-1]:
            return body
        return text[:4] + body
    return text


#: Odoo's ``account.journal.invoice_reference_model`` values whose references have a known kind.
ODOO_REFERENCE_MODELS: dict[str, str] = {"fi": "fi", "fi_rf": "rf", "euro": "rf", "no": "kid10"}


def normalise_odoo_reference(reference: str, reference_model: str) -> str:
    """The matching key of an invoice reference as Odoo wrote it.

    ``reference_model`` is the journal's ``invoice_reference_model``: for ``fi`` (Finnish
    national), ``fi_rf`` and ``euro`` (RF) and ``no`` (KID MOD10) the reference is validated
    first and :class:`InvalidReferenceError` is raised when it is not valid. Any spacing is
    accepted: Odoo 19's ``l10n_fi`` stores ``fi`` and ``fi_rf`` references compact, the ``euro``
    model groups RF in fours, and users may type either. References of other models (``odoo``,
    ``number``, free text) are only normalised.
    """
    code = ODOO_REFERENCE_MODELS.get(reference_model)
    if code:
        KINDS[code].validate(reference)
    return normalise_for_matching(reference)


_REFERENCE_LABEL = r"(?:viitenumero|viitenro|viite|referensnummer|referens|reference|ref)"
_FI_ALONE = re.compile(
    rf"\s*(?:{_REFERENCE_LABEL}\s*(?:n:o|nro|no)?\s*[.:#-]?\s*)?([0-9][0-9 ]*[0-9])\s*\.?\s*",
    re.IGNORECASE,
)
_FI_LABELLED = re.compile(
    rf"\b{_REFERENCE_LABEL}\s*(?:n:o|nro|no)?\s*[.:#-]?\s*([0-9][0-9 ]*[0-9])", re.IGNORECASE
)
_RF_START = re.compile(r"\bRF[0-9]{2}", re.IGNORECASE)


def reference_in_text(text: str) -> str:
    """A payment reference a payer typed into free text (a bank file's message), or "".

    Found are: an RF reference anywhere in the text (ISO 11649 check digits make a chance hit
    about 1 in 100), and a Finnish national reference that is the whole text or follows a label
    (``viite``, ``viitenumero``, ``ref``, ``reference``, ``referens``, with ``nro``, ``:`` and
    the like). A bare number inside other text is not taken: one number in ten passes the
    national check digit by chance (a phone number, a date). Spaces inside a number are
    allowed, as payers copy the printed groups. Returns the compact reference.
    """
    for start in _RF_START.finditer(text):
        tokens = text[start.start() :].split()
        # The longest run of tokens that makes a valid RF reference: the groups of four.
        for count in range(min(len(tokens), 7), 0, -1):
            candidate = "".join(tokens[:count]).upper()
            if len(candidate) <= 25 and candidate.isalnum() and RF.check(candidate):
                return candidate
    match = _FI_ALONE.fullmatch(text)
    candidates = [match.group(1)] if match else []
    candidates += [found.group(1) for found in _FI_LABELLED.finditer(text)]
    for candidate in candidates:
        digits = "".join(candidate.split())
        if 4 <= len(digits) <= 20 and FI.check(digits):
            return digits
    return ""
