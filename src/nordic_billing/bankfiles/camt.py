# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""ISO 20022 camt.054 notifications and camt.053 statements: streaming reader and a writer.

Elements are matched by local name, so every version from ``.001.02`` to ``.001.10`` reads the
same way. The file is parsed with ``lxml.etree.iterparse`` and every transaction and entry is
cleared once read: memory does not grow with the file.

What becomes a :class:`~nordic_billing.payment.Payment`:

* Only booked entries (``Sts`` ``BOOK``); pending and information-only entries are skipped.
* ``CRDT`` entries are incoming payments. A ``DBIT`` entry with ``RvslInd`` true reverses an
  earlier incoming payment: a payment with ``is_correction``. So does a ``DBIT`` transaction
  with return information (``RtrInf``: a direct debit returned, with or without ``RvslInd``):
  its amount is what the payer's earlier payment was (``AmtDtls/InstdAmt``, else the booked
  amount less the charges), the rest of the booked amount is the bank's fee (``charges``) and
  ``RtrInf/Rsn`` is the ``return_reason``. Other itemised ``DBIT`` transactions (money going
  out) are reported as :class:`Outgoing`, never as payments, so a payer of settlements can
  recognise its own payouts; ``CRDT`` reversals (an outgoing payment coming back) are skipped.
  A ``CdtDbtInd`` on a transaction overrides the entry's.
* Each ``TxDtls`` is one payment. The amount is ``TxDtls/Amt`` (.04 and later), else
  ``AmtDtls/TxAmt/Amt``, else (the entry's only transaction) the entry amount; the
  transactions of an entry must add up to the entry amount, and number ``Btch/NbOfTxs`` when
  it is given. ``Chrgs`` (charges included in the booked amount) become ``charges``,
  ``AmtDtls/InstdAmt`` the ``instructed_amount``. A zero amount is refused: it is no payment.
  Amounts are ``xs:decimal`` as ISO 20022 restricts it (``.37`` and ``5.`` are valid).
* The archive id (the payment's identity on its account) is ``TxDtls/Refs/AcctSvcrRef``. A
  bank may leave it out (it is optional; many German, Dutch, Belgian and Swiss files lack it),
  and then it is derived, the same way on every reading: the entry's id (``Ntry/AcctSvcrRef``,
  else ``NtryRef:`` + ``NtryRef``) for the entry's only transaction, and the entry's id + ``/``
  + the transaction's 1-based index in an entry of several; without an entry id, ``TxId:`` +
  ``Refs/TxId``, else ``EndToEndId:`` + ``Refs/EndToEndId`` + ``/`` + booking date + ``/`` +
  amount, else the statement's ``Id`` + ``/`` + the entry's position (+ ``/`` + index). A
  single-transaction entry thus bears the same id in a camt.054 (with or without details) as
  in a camt.053 (itemised or lump sum), and the same payment read from both is one payment.
  Only incoming payments need an id; an entry that is not one never makes a file refused.
* The reference is the first ``RmtInf/Strd/CdtrRefInf/Ref``: a Finnish national reference has
  ``Tp/CdOrPrtry/Cd`` ``SCOR`` and no ``Issr``, an RF reference ``Issr`` ``ISO``; the reference
  is returned as written (an RF one starts with ``RF``) with ``reference_source``
  ``"structured"``. Without one, an RF or Finnish reference the payer typed into ``Ustrd`` is
  used (see :func:`nordic_billing.references.reference_in_text`), with ``reference_source``
  ``"message"``. ``Ustrd`` lines become ``message``.
* camt.054: an entry without ``TxDtls`` is one payment of the entry amount.
* camt.053: an entry whose transactions are not itemised is a lump sum whose details a camt.054
  notification gives: it is reported as a :class:`LumpSum`, never as a payment, so reading both
  files does not count it twice. Not itemised are: an entry without ``TxDtls``, a batch
  (``Btch/NbOfTxs`` above 1) whose ``TxDtls`` have no amounts, several ``TxDtls`` without
  amounts, and a batch whose one detail holds the entry's whole amount (Baltic banks list one
  detail for a batch of 86 transactions). An entry with one ``TxDtls`` and no batch is one
  payment, of the entry amount when the detail has none. Itemised camt.053 transactions carry
  the same archive ids as in camt.054, for deduplication.

``TxsSummry`` (entry counts and sums, in total and per direction) is checked when present.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from itertools import chain
from typing import BinaryIO
from xml.sax.saxutils import escape

from lxml import etree

from nordic_billing.payment import BankFileError, Payment
from nordic_billing.references import reference_in_text

# xs:decimal as ISO 20022 amounts restrict it: at most 18 digits, 5 of them decimals; ".37",
# "5." and "+1.00" are valid forms.
_AMOUNT = re.compile(r"\+?(?=\.?[0-9])(?:[0-9]*)(?:\.[0-9]*)?\Z")
_COUNT = re.compile(r"[0-9]{1,15}\Z")
_CURRENCY = re.compile(r"[A-Z]{3}\Z")
_CENT = Decimal("0.01")
_ZERO = Decimal(0)
_CACHE_SIZE = 4096
REPORTS = {"camt.054": "Ntfctn", "camt.053": "Stmt"}


@dataclass(frozen=True, slots=True)
class LumpSum:
    """A camt.053 statement entry whose transactions are itemised elsewhere (camt.054)."""

    account: str
    archive_id: str
    amount: Decimal
    currency: str
    booking_date: dt.date | None
    is_correction: bool
    transaction_count: int | None  # NtryDtls/Btch/NbOfTxs when given
    source_format: str
    source_line: str


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A booked outgoing transfer (``DBIT``, not a reversal) itemised in a ``TxDtls``.

    Not an incoming payment: it lets the caller recognise its own payouts on the statement by
    their creditor reference or end-to-end id.
    """

    account: str
    archive_id: str
    reference: str
    end_to_end_id: str
    creditor_name: str
    amount: Decimal
    currency: str
    booking_date: dt.date | None
    source_format: str
    source_line: str


class _Names:
    """Qualified tag names in one namespace, built once per document."""

    def __init__(self, tag: str, report_tag: str) -> None:
        ns = tag[: tag.index("}") + 1] if tag.startswith("{") else ""
        self.ns = ns
        self.Report = ns + report_tag
        for name in (
            "Acct TxsSummry TtlNtries TtlCdtNtries TtlDbtNtries NbOfNtries Sum Ntry NtryDtls "
            "TxDtls Amt CdtDbtInd RvslInd Sts Cd BookgDt Dt DtTm AcctSvcrRef Refs TxAmt Dbtr Nm "
            "Pty AccptncDtTm RmtInf Ustrd CdtrRefInf Ref Cdtr EndToEndId TxId NtryRef RtrInf "
            "InstdAmt Chrgs Rcrd ChrgInclInd Id"
        ).split():
            setattr(self, name, ns + name)

    def path(self, *names: str) -> str:
        """An ElementPath of local names in this namespace."""
        return "/".join(self.ns + name for name in names)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


@dataclass
class _Report:
    """One ``Ntfctn`` / ``Stmt``: account, declared summary and running entry totals."""

    path: str
    account: str = ""
    report_id: str = ""  # Stmt/Id or Ntfctn/Id
    summary: dict[str, tuple[int, Decimal | None, etree._Element]] = field(default_factory=dict)
    entries: int = 0
    sums: dict[str, tuple[int, Decimal]] = field(
        default_factory=lambda: {
            "TtlNtries": (0, Decimal(0)),
            "CRDT": (0, Decimal(0)),
            "DBIT": (0, Decimal(0)),
        }
    )

    def add(self, direction: str, amount: Decimal) -> None:
        """Count one entry for the summary check."""
        for key in ("TtlNtries", direction):
            count, total = self.sums[key]
            self.sums[key] = count + 1, total + amount


@dataclass
class _Entry:
    """The header of an ``Ntry`` (everything before ``NtryDtls``) and its running totals."""

    path: str
    element: etree._Element
    amount: Decimal
    currency: str
    direction: str
    reversal: bool
    booked: bool
    booking_date: dt.date | None
    archive_id: str
    batch_count: int | None
    entry_ref: str = ""  # NtryRef
    position: int = 0  # 1-based in the report
    transactions: int = 0
    signed_total: Decimal = Decimal(0)
    lump_sum: bool = False
    details: etree._Element | None = None  # the NtryDtls being read
    pending: Payment | Outgoing | None = None  # the first transaction, held back
    pending_base: str = ""  # the entry's id it bears, "" when it has its own
    pending_amountless: bool = False


class CamtReader:
    """Streams one camt.053 or camt.054 document; see the module docstring for the rules."""

    def __init__(self, stream: BinaryIO, source_format: str) -> None:
        self.stream = stream
        self.source_format = source_format
        self.report_tag = REPORTS[source_format]
        self.names: _Names | None = None
        # Bounded memos: the same dates, amounts (fees) and currencies recur in a file.
        self.dates: dict[str, dt.date] = {}
        self.amounts: dict[str, Decimal] = {}
        self.currencies: set[str] = set()

    # -- errors -------------------------------------------------------------------------------

    def error(
        self, message: str, path: str, element: etree._Element | None = None
    ) -> BankFileError:
        """A :class:`BankFileError` at ``path`` (and the element's line when known)."""
        line = getattr(element, "sourceline", None)
        location = f"{path} (line {line})" if line else path
        return BankFileError(message, location, self.source_format)

    def amount(self, element: etree._Element | None, path: str) -> tuple[Decimal, str]:
        """Parse an ``Amt``-like element with a ``Ccy`` attribute: (amount to cents, currency)."""
        if element is None:
            raise self.error("amount is missing", path)
        text = (element.text or "").strip()
        value = self.amounts.get(text)
        if value is None:
            if not _AMOUNT.match(text) or (
                len(text) > 18 and sum(c.isdigit() for c in text.lstrip("+0")) > 18
            ):
                raise self.error(
                    f"amount {text!r} is not a non-negative decimal number", path, element
                )
            value = Decimal(text).quantize(_CENT)
            if value != Decimal(text):
                raise self.error(f"amount {text} has more than 2 decimals", path, element)
            if len(self.amounts) < _CACHE_SIZE:
                self.amounts[text] = value
        currency = element.get("Ccy", "")
        if currency not in self.currencies:
            if not _CURRENCY.match(currency):
                raise self.error(f"currency {currency!r} is not an ISO 4217 code", path, element)
            self.currencies.add(currency)
        return value, currency

    def date(self, element: etree._Element | None, path: str) -> dt.date | None:
        """A date from ``Dt`` / ``DtTm`` children, or from the element's own ISO text."""
        if element is None:
            return None
        n = self.names
        if len(element):
            text = element.findtext(n.Dt) or element.findtext(n.DtTm) or ""
        else:
            text = element.text or ""
        text = text.strip()[:10]
        date = self.dates.get(text)
        if date is None:
            try:
                date = dt.date.fromisoformat(text)
            except ValueError:
                raise self.error(f"{text!r} is not an ISO date", path, element) from None
            if len(self.dates) < _CACHE_SIZE:
                self.dates[text] = date
        return date

    # -- document -----------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Payment | LumpSum]:
        events = etree.iterparse(
            self.stream,
            events=("end",),
            tag=(f"{{*}}{self.report_tag}", "{*}Acct", "{*}TxsSummry", "{*}Ntry", "{*}TxDtls"),
            resolve_entities=False,
            no_network=True,
            remove_comments=True,
            remove_pis=True,
            remove_blank_text=True,
            collect_ids=False,
        )
        report: _Report | None = None
        entry: _Entry | None = None
        reports = 0
        n = self.names
        try:
            for _event, element in events:
                tag = element.tag
                if n is None:
                    n = self.names = _Names(tag, self.report_tag)
                if report is None:
                    reports += 1
                    report = _Report(f"{self.report_tag}[{reports}]")
                if tag == n.TxDtls:
                    ntry = element.getparent().getparent()
                    if entry is None or entry.element is not ntry:
                        entry = self.entry_header(ntry, report, element)
                    item = self.transaction(element, entry, report)
                    if item is not None:
                        if type(item) is list:
                            yield from item
                        else:
                            yield item
                    self.release(element)
                elif tag == n.Ntry:
                    if entry is None or entry.element is not element:
                        entry = self.entry_header(element, report, element)
                    yield from self.end_entry(entry, report)
                    self.release(element)
                    entry = None
                elif tag == n.Report:
                    self.check_summary(report)
                    self.release(element)
                    report = None
                elif tag in (n.Acct, n.TxsSummry):
                    if element.getparent().tag != n.Report:
                        continue
                    if tag == n.Acct:
                        report.account = self.account(element, report.path)
                        report.report_id = (element.getparent().findtext(n.Id) or "").strip()
                    else:
                        report.summary = self.summary(element, report.path)
                else:
                    raise self.error(
                        f"element in namespace {etree.QName(element).namespace!r}, the document "
                        f"uses {n.ns[1:-1]!r}",
                        report.path,
                        element,
                    )
        except etree.XMLSyntaxError as exc:
            raise BankFileError(
                f"malformed XML: {exc.msg}", f"line {exc.lineno}", self.source_format
            ) from None
        if report is not None:
            raise self.error(f"{self.report_tag} is not closed", report.path)
        if reports == 0:
            raise BankFileError(
                f"no {self.report_tag} element: not a {self.source_format} message",
                "Document",
                self.source_format,
            )

    @staticmethod
    def release(element: etree._Element) -> None:
        """Free a processed element and the already processed siblings before it."""
        element.clear(keep_tail=False)
        parent = element.getparent()
        if parent is not None:
            while element.getprevious() is not None:
                del parent[0]

    def account(self, acct: etree._Element, path: str) -> str:
        """The report's account: IBAN, else ``Othr/Id``."""
        n = self.names
        value = acct.findtext(n.path("Id", "IBAN")) or acct.findtext(n.path("Id", "Othr", "Id"))
        if not value or not value.strip():
            raise self.error("account has no IBAN or other id", f"{path}/Acct", acct)
        return value.strip()

    def summary(
        self, summary: etree._Element, path: str
    ) -> dict[str, tuple[int, Decimal | None, etree._Element]]:
        """Declared entry counts and sums: ``TtlNtries``, ``CRDT`` and ``DBIT``."""
        n = self.names
        declared = {}
        for key, tag in (
            ("TtlNtries", n.TtlNtries),
            ("CRDT", n.TtlCdtNtries),
            ("DBIT", n.TtlDbtNtries),
        ):
            total = summary.find(tag)
            if total is None:
                continue
            where = f"{path}/TxsSummry/{_local(tag)}"
            count = (total.findtext(n.NbOfNtries) or "").strip()
            if not _COUNT.match(count):
                raise self.error(f"NbOfNtries {count!r} is not a count", where, total)
            text = total.findtext(n.Sum)
            amount = None
            if text is not None:
                try:
                    amount = Decimal(text.strip())
                except InvalidOperation:
                    raise self.error(f"Sum {text!r} is not a number", where, total) from None
            declared[key] = (int(count), amount, total)
        return declared

    def check_summary(self, report: _Report) -> None:
        """Raise when the entries read differ from ``TxsSummry``."""
        for key, (count, amount, element) in report.summary.items():
            where = f"{report.path}/TxsSummry/{_local(element.tag)}"
            read_count, read_total = report.sums[key]
            if count != read_count:
                raise self.error(
                    f"NbOfNtries says {count} entries, the file has {read_count}", where, element
                )
            if amount is not None and amount != read_total:
                raise self.error(
                    f"Sum says {amount}, the entries add up to {read_total}", where, element
                )

    # -- entries and transactions -------------------------------------------------------------

    def entry_header(
        self, ntry: etree._Element | None, report: _Report, child: etree._Element
    ) -> _Entry:
        """Start the next entry of ``report``: read the entry's own fields, which precede
        ``NtryDtls`` in every version (``child`` is the element that made it start)."""
        n = self.names
        if ntry is None or ntry.tag != n.Ntry or ntry.getparent().tag != n.Report:
            raise self.error(
                f"{etree.QName(child).localname} outside Ntry", f"{report.path}", child
            )
        report.entries += 1
        path = f"{report.path}/Ntry[{report.entries}]"
        amount, currency = self.amount(ntry.find(n.Amt), f"{path}/Amt")
        direction = (ntry.findtext(n.CdtDbtInd) or "").strip()
        if direction not in ("CRDT", "DBIT"):
            raise self.error(
                f"CdtDbtInd {direction!r} is not CRDT or DBIT", f"{path}/CdtDbtInd", ntry
            )
        reversal = (ntry.findtext(n.RvslInd) or "false").strip()
        if reversal not in ("true", "false", "1", "0"):
            raise self.error(f"RvslInd {reversal!r} is not a boolean", f"{path}/RvslInd", ntry)
        status = ntry.find(n.Sts)
        status_code = ""
        if status is not None:
            status_code = (status.findtext(n.Cd) or status.text or "").strip()
        archive_id = (ntry.findtext(n.AcctSvcrRef) or "").strip()
        details = ntry.find(n.NtryDtls)
        batch_count = None if details is None else self.batch_count(details, path)
        return _Entry(
            path=path,
            element=ntry,
            amount=amount,
            currency=currency,
            direction=direction,
            reversal=reversal in ("true", "1"),
            booked=status_code in ("BOOK", ""),
            booking_date=self.date(ntry.find(n.BookgDt), f"{path}/BookgDt"),
            archive_id=archive_id,
            batch_count=batch_count,
            entry_ref=(ntry.findtext(n.NtryRef) or "").strip(),
            position=report.entries,
        )

    def batch_count(self, details: etree._Element, path: str) -> int | None:
        """``Btch/NbOfTxs`` of one ``NtryDtls``, None when it declares no batch."""
        count_text = details.findtext(self.names.path("Btch", "NbOfTxs"))
        if count_text is None:
            return None
        if not _COUNT.match(count_text.strip()):
            raise self.error(f"NbOfTxs {count_text!r} is not a count", f"{path}/NtryDtls/Btch")
        return int(count_text)

    @staticmethod
    def incoming(direction: str, reversal: bool) -> bool | None:
        """None when not an incoming payment, else whether it is a correction."""
        if direction == "CRDT" and not reversal:
            return False
        if direction == "DBIT" and reversal:
            return True
        return None

    @staticmethod
    def entry_id(entry: _Entry, report: _Report) -> str:
        """The id of an entry: ``AcctSvcrRef``, else ``NtryRef``, else the statement's ``Id``
        and the entry's position; "" when there is none of them."""
        if entry.archive_id:
            return entry.archive_id
        if entry.entry_ref:
            return f"NtryRef:{entry.entry_ref}"
        if report.report_id:
            return f"{report.report_id}/{entry.position}"
        return ""

    def transaction(
        self, tx: etree._Element, entry: _Entry, report: _Report
    ) -> Payment | Outgoing | list[Payment | Outgoing] | None:
        """One ``TxDtls``: its payment or outgoing transfer (None when skipped or held back),
        preceded by the entry's first transaction when that was held back until it was known
        not to be the entry's only one (then a list)."""
        n = self.names
        entry.transactions += 1
        index = entry.transactions
        path = f"{entry.path}/NtryDtls/TxDtls[{index}]"
        details = tx.getparent()
        if details.tag != n.NtryDtls:
            raise self.error("TxDtls outside NtryDtls", path, tx)
        if details is not entry.details:
            # Another NtryDtls of the entry (each may declare its own batch): count them all.
            if entry.details is not None and entry.batch_count is not None:
                more = self.batch_count(details, path)
                entry.batch_count = None if more is None else entry.batch_count + more
            entry.details = details
        # One pass over the interesting descendants, told apart by their parents' names.
        amount_element = tx_amount = accepted = instructed = None
        charge_elements = ()
        archive_id = direction = payer = reference = end_to_end = creditor = ""
        lines = []
        for element in tx.iter(
            n.Amt,
            n.AcctSvcrRef,
            n.CdtDbtInd,
            n.Nm,
            n.Ref,
            n.Ustrd,
            n.AccptncDtTm,
            n.EndToEndId,
        ):
            tag = element.tag
            parent = element.getparent()
            parent_tag = parent.tag
            if tag == n.Amt:
                if parent_tag == n.TxDtls:
                    amount_element = element
                elif parent_tag == n.TxAmt:
                    tx_amount = element
                elif parent_tag == n.InstdAmt:
                    instructed = element
                elif parent_tag in (n.Chrgs, n.Rcrd):
                    charge_elements += (element,)
            elif tag == n.AcctSvcrRef:
                if parent_tag == n.Refs:
                    archive_id = (element.text or "").strip()
            elif tag == n.EndToEndId:
                if parent_tag == n.Refs:
                    end_to_end = (element.text or "").strip()
            elif tag == n.CdtDbtInd:
                if parent_tag == n.TxDtls:
                    direction = (element.text or "").strip()
            elif tag == n.Nm:
                if parent_tag == n.Dbtr or (
                    parent_tag == n.Pty and parent.getparent().tag == n.Dbtr
                ):
                    payer = (element.text or "").strip()
                elif parent_tag == n.Cdtr or (
                    parent_tag == n.Pty and parent.getparent().tag == n.Cdtr
                ):
                    creditor = (element.text or "").strip()
            elif tag == n.Ref:
                if parent_tag == n.CdtrRefInf and not reference:
                    reference = (element.text or "").strip()
            elif tag == n.Ustrd:
                if parent_tag == n.RmtInf and element.text:
                    lines.append(element.text.strip())
            else:
                accepted = element
        if amount_element is None:
            amount_element = tx_amount
        direction = direction or entry.direction
        if direction not in ("CRDT", "DBIT"):
            raise self.error(f"CdtDbtInd {direction!r} is not CRDT or DBIT", path, tx)
        pending, entry.pending = entry.pending, None
        if entry.lump_sum:
            return
        if amount_element is None:
            if index > 1:
                if pending is not None and entry.pending_amountless:
                    if self.source_format == "camt.053":
                        # Transactions listed without amounts: itemised elsewhere.
                        entry.lump_sum = True
                        return
                raise self.error(
                    "TxDtls without an amount in an entry of several transactions", path, tx
                )
            if self.source_format == "camt.053" and (entry.batch_count or 1) > 1:
                # A batch whose transactions have no amounts: itemised elsewhere.
                entry.lump_sum = True
                return
            amount, currency = entry.amount, entry.currency
        else:
            amount, currency = self.amount(amount_element, f"{path}/Amt")
            if currency != entry.currency:
                raise self.error(
                    f"transaction currency {currency} differs from the entry's {entry.currency}",
                    path,
                    amount_element,
                )
            if (
                self.source_format == "camt.053"
                and index == 1
                and (entry.batch_count or 1) > 1
                and amount == entry.amount
            ):
                # One detail holding the total of a batch of many transactions: the batch is
                # itemised elsewhere (camt.054), else its money would be counted twice.
                entry.lump_sum = True
                return
        out = None
        if pending is not None:
            if entry.pending_amountless:
                raise self.error(
                    "TxDtls[1] has no amount in an entry of several transactions", path, tx
                )
            if entry.pending_base:
                pending = replace(pending, archive_id=f"{entry.pending_base}/1")
            out = pending
        entry.signed_total += amount if direction == entry.direction else -amount
        correction = self.incoming(direction, entry.reversal)
        return_reason = ""
        returned = tx.find(n.RtrInf) if direction == "DBIT" else None
        if returned is not None:
            # A direct-debit return, with RvslInd or (often) without: it reverses the payer's
            # earlier payment.
            correction = True
            return_reason = (
                returned.findtext(n.path("Rsn", "Cd"))
                or returned.findtext(n.path("Rsn", "Prtry"))
                or ""
            ).strip()
        outgoing = direction == "DBIT" and correction is None
        if not entry.booked or (correction is None and not outgoing):
            return out
        if not amount:
            if outgoing:
                return out
            raise self.error("amount is zero: a transaction without money is not a payment", path)
        # The entry's first transaction waits for the next one when the entry does not say how
        # many it holds: an entry's only transaction bears the entry's id.
        held = index == 1 and (entry.batch_count or 1) == 1
        entry.pending_base = ""
        if not archive_id:
            tx_id = (tx.findtext(n.path("Refs", "TxId")) or "").strip()
            if tx_id and tx_id != "NOTPROVIDED" and not (entry.archive_id or entry.entry_ref):
                archive_id = f"TxId:{tx_id}"
            elif (
                end_to_end
                and end_to_end != "NOTPROVIDED"
                and not (entry.archive_id or entry.entry_ref)
            ):
                archive_id = f"EndToEndId:{end_to_end}/{entry.booking_date}/{amount}"
            else:
                base = self.entry_id(entry, report)
                if not base:
                    if outgoing:
                        base = f"{report.path}/{entry.position}"
                    else:
                        raise self.error(
                            "no AcctSvcrRef, NtryRef, TxId or EndToEndId on the transaction "
                            "or its entry, and no statement Id",
                            path,
                            tx,
                        )
                if held:
                    archive_id = base
                    entry.pending_base = base
                else:
                    archive_id = f"{base}/{index}"
        if outgoing:
            item: Payment | Outgoing = Outgoing(
                account=report.account,
                archive_id=archive_id,
                reference=reference,
                end_to_end_id="" if end_to_end == "NOTPROVIDED" else end_to_end,
                creditor_name=creditor,
                amount=amount,
                currency=currency,
                booking_date=entry.booking_date,
                source_format=self.source_format,
                source_line=path,
            )
        else:
            charges = _ZERO
            for element in charge_elements:
                record = element.getparent()
                if record.tag == n.Rcrd and (
                    record.getparent().tag != n.Chrgs
                    or (record.findtext(n.ChrgInclInd) or "").strip() in ("false", "0")
                ):
                    continue  # not a charge, or one the bank books apart
                charges += self.amount(element, f"{path}/Chrgs")[0]
            instructed_amount = None
            if instructed is not None:
                instructed_amount = self.amount(instructed, f"{path}/AmtDtls/InstdAmt")[0]
            if returned is not None:
                # The money taken back is the payer's earlier payment; what the bank took on
                # top of it is its fee.
                if instructed_amount is not None and instructed_amount < amount:
                    charges = amount - instructed_amount
                elif charges and charges < amount:
                    pass
                else:
                    charges = _ZERO
                amount -= charges
            reference_source = "structured" if reference else ""
            if not reference and lines:
                reference = reference_in_text(" ".join(lines))
                reference_source = "message" if reference else ""
            item = Payment(
                account=report.account,
                archive_id=archive_id,
                reference=reference,
                amount=amount,
                currency=currency,
                payment_date=self.date(accepted, f"{path}/RltdDts/AccptncDtTm"),
                booking_date=entry.booking_date,
                payer_name=payer,
                is_correction=correction,
                source_format=self.source_format,
                source_line=path,
                message="\n".join(lines),
                reference_source=reference_source,
                charges=charges,
                instructed_amount=instructed_amount,
                return_reason=return_reason,
            )
        if held:
            entry.pending = item
            entry.pending_amountless = amount_element is None
            return out
        return item if out is None else [out, item]

    def end_entry(self, entry: _Entry, report: _Report) -> Iterator[Payment | LumpSum | Outgoing]:
        """Finish an entry: totals, the transaction held back, and the entry itself when it
        has no itemised transactions."""
        report.add(entry.direction, entry.amount)
        pending, entry.pending = entry.pending, None
        if pending is not None and not entry.lump_sum:
            # The entry's only transaction: it bears the entry's id, as a camt.054 entry
            # without details and a camt.053 lump sum do.
            yield pending
        correction = self.incoming(entry.direction, entry.reversal)
        if entry.transactions == 0 or entry.lump_sum:
            if not entry.booked or correction is None:
                return
            if not entry.amount:
                raise self.error(
                    "amount is zero: an entry without money is not a payment",
                    entry.path,
                    entry.element,
                )
            archive_id = self.entry_id(entry, report)
            if not archive_id:
                raise self.error(
                    "entry has no AcctSvcrRef or NtryRef, and the statement no Id",
                    entry.path,
                    entry.element,
                )
            if self.source_format == "camt.053":
                yield LumpSum(
                    account=report.account,
                    archive_id=archive_id,
                    amount=entry.amount,
                    currency=entry.currency,
                    booking_date=entry.booking_date,
                    is_correction=correction,
                    transaction_count=entry.batch_count,
                    source_format=self.source_format,
                    source_line=entry.path,
                )
                return
            yield Payment(
                account=report.account,
                archive_id=archive_id,
                reference="",
                amount=entry.amount,
                currency=entry.currency,
                payment_date=None,
                booking_date=entry.booking_date,
                payer_name="",
                is_correction=correction,
                source_format=self.source_format,
                source_line=entry.path,
            )
            return
        if entry.signed_total != entry.amount:
            raise self.error(
                f"the {entry.transactions} transactions add up to {entry.signed_total}, "
                f"the entry amount is {entry.amount}",
                entry.path,
                entry.element,
            )
        if entry.batch_count is not None and entry.batch_count != entry.transactions:
            raise self.error(
                f"Btch/NbOfTxs says {entry.batch_count} transactions, the entry itemises "
                f"{entry.transactions}",
                entry.path,
                entry.element,
            )


def iter_camt(stream: BinaryIO, source_format: str) -> Iterator[Payment | LumpSum]:
    """Yield payments (and, for camt.053, lump sums) of a camt document as they are read.

    A :class:`BankFileError` can come after items were yielded (a summary at the end that does
    not match, truncated XML): see :func:`nordic_billing.bankfiles.iter_unchecked`.
    """
    return iter(CamtReader(stream, source_format))


# -- writer -----------------------------------------------------------------------------------

CAMT054_NS = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"


def _text(value: str) -> str:
    return escape(value)


def _reference_xml(reference: str) -> str:
    issuer = "<Issr>ISO</Issr>" if reference.upper().startswith("RF") else ""
    return (
        "<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry>"
        f"{issuer}</Tp><Ref>{_text(reference)}</Ref></CdtrRefInf></Strd>"
    )


def _tx_xml(payment: Payment) -> str:
    remittance = "".join(
        f"<Ustrd>{_text(line[:140])}</Ustrd>" for line in payment.message.splitlines()
    )
    if payment.reference:
        remittance += _reference_xml(payment.reference)
    accepted = (
        f"<RltdDts><AccptncDtTm>{payment.payment_date.isoformat()}T00:00:00</AccptncDtTm></RltdDts>"
        if payment.payment_date
        else ""
    )
    return (
        "<TxDtls>"
        f"<Refs><AcctSvcrRef>{_text(payment.archive_id)}</AcctSvcrRef>"
        "<EndToEndId>NOTPROVIDED</EndToEndId></Refs>"
        f'<AmtDtls><TxAmt><Amt Ccy="{payment.currency}">{payment.amount}</Amt></TxAmt></AmtDtls>'
        + (
            f"<RltdPties><Dbtr><Nm>{_text(payment.payer_name)}</Nm></Dbtr></RltdPties>"
            if payment.payer_name
            else ""
        )
        + (f"<RmtInf>{remittance}</RmtInf>" if remittance else "")
        + accepted
        + "</TxDtls>"
    )


def _entry_key(payment: Payment) -> tuple:
    return payment.currency, payment.booking_date, payment.is_correction


def write_camt054(
    account_iban: str,
    payments: Sequence[Payment],
    *,
    msg_id: str = "NB-CAMT054-1",
    created: dt.datetime | None = None,
    entry_size: int = 500,
    outgoing: Sequence[Outgoing] = (),
) -> Iterator[bytes]:
    """Generate a camt.054.001.02 credit notification for ``payments``, chunk by chunk.

    Like Finnish banks' reference-payment notifications, consecutive payments with the same
    currency, booking date and correction flag are grouped into entries of up to ``entry_size``
    itemised transactions (``Refs/AcctSvcrRef`` = the payment's archive id); corrections are
    ``DBIT`` entries with ``RvslInd``. ``outgoing`` transfers follow, one ``DBIT`` entry each.
    ``TxsSummry`` is written, so ``payments`` is read twice.
    """
    created = created or dt.datetime(2026, 1, 1, 12, 0, 0)
    entries = credit = debit = 0
    credit_sum = debit_sum = Decimal(0)
    previous = None
    size = 0
    for payment in payments:
        if payment.amount <= 0 or payment.amount != payment.amount.quantize(_CENT):
            raise ValueError(f"amount {payment.amount} must be positive with at most 2 decimals")
        if payment.booking_date is None:
            raise ValueError(f"payment {payment.archive_id} has no booking date")
        key = _entry_key(payment)
        if key != previous or size == entry_size:
            entries += 1
            size = 0
            previous = key
            if payment.is_correction:
                debit += 1
            else:
                credit += 1
        size += 1
        if payment.is_correction:
            debit_sum += payment.amount
        else:
            credit_sum += payment.amount
    for transfer in outgoing:
        entries += 1
        debit += 1
        debit_sum += transfer.amount
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="{CAMT054_NS}"><BkToCstmrDbtCdtNtfctn>'
        f"<GrpHdr><MsgId>{_text(msg_id)}</MsgId><CreDtTm>{created:%Y-%m-%dT%H:%M:%S}</CreDtTm>"
        "</GrpHdr>"
        f"<Ntfctn><Id>{_text(msg_id)}</Id><CreDtTm>{created:%Y-%m-%dT%H:%M:%S}</CreDtTm>"
        f"<Acct><Id><IBAN>{_text(account_iban)}</IBAN></Id></Acct>"
        "<TxsSummry>"
        f"<TtlNtries><NbOfNtries>{entries}</NbOfNtries><Sum>{credit_sum + debit_sum}</Sum>"
        "</TtlNtries>"
        f"<TtlCdtNtries><NbOfNtries>{credit}</NbOfNtries><Sum>{credit_sum}</Sum></TtlCdtNtries>"
        f"<TtlDbtNtries><NbOfNtries>{debit}</NbOfNtries><Sum>{debit_sum}</Sum></TtlDbtNtries>"
        "</TxsSummry>\n"
    ).encode()
    number = 0
    group: list[Payment] = []
    for payment in chain(payments, [None]):
        if group and (
            payment is None
            or _entry_key(payment) != _entry_key(group[0])
            or len(group) == entry_size
        ):
            number += 1
            yield _entry_xml(group, f"{msg_id}-{number:06d}").encode()
            group = []
        if payment is not None:
            group.append(payment)
    for transfer in outgoing:
        yield _outgoing_entry_xml(transfer).encode()
    yield b"</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>\n"


def _outgoing_entry_xml(transfer: Outgoing) -> str:
    booked = (transfer.booking_date or dt.date(2026, 1, 1)).isoformat()
    return (
        f'<Ntry><Amt Ccy="{transfer.currency}">{transfer.amount}</Amt>'
        f"<CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>{booked}</Dt></BookgDt>"
        f"<AcctSvcrRef>{_text(transfer.archive_id)}</AcctSvcrRef>"
        "<NtryDtls><TxDtls>"
        f"<Refs><AcctSvcrRef>{_text(transfer.archive_id)}</AcctSvcrRef>"
        f"<EndToEndId>{_text(transfer.end_to_end_id or 'NOTPROVIDED')}</EndToEndId></Refs>"
        f'<AmtDtls><TxAmt><Amt Ccy="{transfer.currency}">{transfer.amount}</Amt></TxAmt></AmtDtls>'
        f"<RltdPties><Cdtr><Nm>{_text(transfer.creditor_name)}</Nm></Cdtr></RltdPties>"
        f"<RmtInf>{_reference_xml(transfer.reference)}</RmtInf>"
        "</TxDtls></NtryDtls></Ntry>\n"
    )


def _entry_xml(group: list[Payment], archive_id: str) -> str:
    first = group[0]
    total = sum((payment.amount for payment in group), Decimal(0))
    direction = "DBIT" if first.is_correction else "CRDT"
    reversal = "<RvslInd>true</RvslInd>" if first.is_correction else ""
    booked = first.booking_date.isoformat()
    return (
        f'<Ntry><Amt Ccy="{first.currency}">{total}</Amt><CdtDbtInd>{direction}</CdtDbtInd>'
        f"{reversal}<Sts>BOOK</Sts><BookgDt><Dt>{booked}</Dt></BookgDt>"
        f"<ValDt><Dt>{booked}</Dt></ValDt><AcctSvcrRef>{_text(archive_id)}</AcctSvcrRef>"
        "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn>"
        "<Prtry><Cd>705</Cd><Issr>FFFS</Issr></Prtry></BkTxCd>"
        f"<NtryDtls><Btch><NbOfTxs>{len(group)}</NbOfTxs></Btch>"
        + "\n".join(_tx_xml(payment) for payment in group)
        + "</NtryDtls></Ntry>\n"
    )
