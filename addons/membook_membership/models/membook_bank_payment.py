# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from decimal import Decimal

import psycopg2
from psycopg2.extensions import TransactionRollbackError

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from nordic_billing import matching
from nordic_billing.payment import Payment
from nordic_billing.references import normalise_for_matching
from nordic_billing.suggestions import Candidate, suggest

from .batching import insert_rows, lock_next_batch, next_ids
from .registry_checks import fast_paths_off, overriding_modules, stored_dependents

MATCH_KINDS = [
    ("exact", "Exact"),
    ("partial", "Partial payment"),
    ("overpayment", "Overpayment"),
    ("already_paid", "Already paid"),
    ("unreferenced", "No reference"),
    ("unknown_reference", "Unknown reference"),
    ("invalid_reference", "Invalid reference"),
    ("duplicate", "Duplicate"),
    ("reversal", "Reversal"),
    ("reversal_unmatched", "Reversal of an unknown payment"),
]
MATCHED_KINDS = {"exact", "partial", "overpayment"}
CENT = Decimal("0.01")
# Times in a row a batch is taken again after a conflict with a concurrent transaction.
MAX_BATCH_CONFLICTS = 3
# The payers' items of a day entry are copied in SQL from the first (_copy_item): the stored
# fields of journal items depending on what a copy changes, which it writes itself or which
# hold for every payer's item alike, and the modules whose overrides of creating an item do
# nothing a copy misses. Any other sends the bank day to Odoo's path, which creates each item.
ITEM_COPY_KNOWN_DEPENDENTS = {
    "account.move.line.amount_residual",
    "account.move.line.amount_residual_currency",
    "account.move.line.reconciled",
    "account.move.line.balance",
    "account.move.line.debit",
    "account.move.line.credit",
    "account.move.line.price_subtotal",
    "account.move.line.price_total",
    "account.move.line.amount_currency",
    "account.move.line.commercial_partner_id",
    "account.move.line.matching_number",
    # The payer (partner) picks a distribution model: only when the company has none (checked
    # with the registry) is every payer's item without analytic distribution, as the first's.
    "account.move.line.analytic_distribution",
}
ITEM_COPY_KNOWN_OVERRIDES = {
    ("account.move.line", "create"): {"account", "analytic", "membership"},
}
# Errors of a fast path that the batch is done again through Odoo's path for: the database's
# (but a conflict with another transaction, which is taken again as it is) and programming
# errors, say after an upgrade of Odoo changed a table the fast path writes.
FAST_PATH_ERRORS = (psycopg2.Error, LookupError, TypeError, ValueError, AttributeError)

_logger = logging.getLogger(__name__)


def _decimal(value):
    return Decimal(str(value)).quantize(CENT)


class MembookBankPayment(models.Model):
    """One payment of a bank file, from staging to booked and matched.

    ``new``: staged by the import. The processing cron books it as a bank statement line on the
    file's journal and matches it with the core matcher: a match reconciles the line with the
    invoices (``matched``) and allocates the money to the organisations; anything a person must
    place goes to the unmatched queue (``to_check``) on the suspense account until someone
    assigns it (``assigned``). A correction record reverses the payment it corrects
    (``reversal`` / ``reversed``).
    """

    _name = "membook.bank.payment"
    _description = "Bank payment"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _check_company_auto = True
    _rec_name = "archive_id"

    file_id = fields.Many2one("membook.bank.file", index=True, ondelete="restrict", readonly=True)
    journal_id = fields.Many2one(
        "account.journal", required=True, index=True, readonly=True, check_company=True
    )
    company_id = fields.Many2one(related="journal_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="journal_id.company_id.currency_id")
    account = fields.Char(string="Bank account", readonly=True)
    archive_id = fields.Char(string="Archive ID", readonly=True, index=True)
    reference = fields.Char(readonly=True)
    reference_key = fields.Char(readonly=True, index="btree_not_null")
    amount = fields.Monetary(readonly=True)
    payment_date = fields.Date(readonly=True)
    booking_date = fields.Date(readonly=True)
    payer_name = fields.Char(readonly=True)
    message = fields.Char(readonly=True)
    reference_source = fields.Selection(
        [("structured", "Reference field"), ("message", "Typed in the message")],
        string="Reference from",
        readonly=True,
        help="Where the bank file gave the reference: its reference field, or the free text "
        "where the payer typed it (then its check digits were verified).",
    )
    is_correction = fields.Boolean(string="Correction", readonly=True)
    charges = fields.Monetary(
        string="Bank charges",
        readonly=True,
        help="Charges the bank booked with this payment (the fee of a returned direct debit "
        "is booked on the journal's bank charges account), or deducted before it was credited.",
    )
    instructed_amount = fields.Monetary(
        readonly=True, help="The amount the payer ordered, when the bank file gives it."
    )
    return_reason = fields.Char(
        readonly=True, help="ISO 20022 reason code of a returned direct debit (AM04, MD06...)."
    )
    source_format = fields.Char(readonly=True)
    source_line = fields.Char(readonly=True)
    state = fields.Selection(
        [
            ("new", "To process"),
            ("matched", "Matched"),
            ("to_check", "To check"),
            ("assigned", "Assigned by hand"),
            ("reversal", "Reversal"),
            ("reversed", "Reversed"),
        ],
        string="Status",
        default="new",
        required=True,
        index=True,
        readonly=True,
        tracking=True,
    )
    match_kind = fields.Selection(MATCH_KINDS, readonly=True)
    match_reason = fields.Char(readonly=True)
    partner_id = fields.Many2one("res.partner", readonly=True, index="btree_not_null")
    invoice_ids = fields.Many2many("account.move", string="Invoices", readonly=True)
    unapplied_amount = fields.Monetary(readonly=True)
    statement_line_id = fields.Many2one("account.bank.statement.line", readonly=True)
    counterpart_line_id = fields.Many2one(
        "account.move.line",
        string="Journal item",
        readonly=True,
        index="btree_not_null",
        help="The item that credits the payer for this payment, reconciled with the invoices.",
    )
    reverses_id = fields.Many2one("membook.bank.payment", string="Reverses", readonly=True)
    reversed_by_id = fields.Many2one("membook.bank.payment", string="Reversed by", readonly=True)
    allocation_ids = fields.One2many("membook.allocation", "bank_payment_id", readonly=True)
    assigned_by_id = fields.Many2one("res.users", string="Assigned by", readonly=True)
    fast_path_note = fields.Char(
        string="Booked by Odoo", readonly=True, help="Why Odoo's own path booked this payment."
    )
    assigned_at = fields.Datetime(string="Assigned on", readonly=True)
    suggestion_text = fields.Text(string="Suggestions", compute="_compute_suggestion_text")

    _archive_id_uniq = models.UniqueIndex(
        "(journal_id, account, archive_id, is_correction) WHERE archive_id <> ''",
        "This payment was already imported on this bank account.",
    )

    # ------------------------------------------------------------------
    # Staging
    # ------------------------------------------------------------------
    @api.model
    def _stage(self, journal, payments, bank_file):
        """Stage the payments of ``bank_file`` that are new on ``journal``: (staged records,
        duplicates count)."""
        archive_ids = [p.archive_id for p in payments if p.archive_id]
        known = set()
        if archive_ids:
            self.env.cr.execute(
                """
                SELECT account, archive_id, is_correction FROM membook_bank_payment
                 WHERE journal_id = %s AND archive_id = ANY(%s)
                """,
                (journal.id, archive_ids),
            )
            known = {(a, b, bool(c)) for a, b, c in self.env.cr.fetchall()}
        vals_list, duplicates = [], 0
        for payment in payments:
            identity = (payment.account, payment.archive_id, payment.is_correction)
            if payment.archive_id and identity in known:
                duplicates += 1
                continue
            known.add(identity)
            vals_list.append(self._payment_vals(journal, payment, bank_file))
        return insert_rows(self, vals_list), duplicates

    @api.model
    def _payment_vals(self, journal, payment, bank_file):
        return {
            "file_id": bank_file.id,
            "journal_id": journal.id,
            "company_id": journal.company_id.id,
            "state": "new",
            "account": payment.account,
            "archive_id": payment.archive_id,
            "reference": payment.reference,
            "reference_key": normalise_for_matching(payment.reference) or False,
            "amount": float(payment.amount),
            "payment_date": payment.payment_date,
            "booking_date": payment.booking_date,
            "payer_name": payment.payer_name,
            "message": payment.message,
            "reference_source": payment.reference_source or None,
            "is_correction": payment.is_correction,
            "charges": float(payment.charges),
            "instructed_amount": (
                None if payment.instructed_amount is None else float(payment.instructed_amount)
            ),
            "return_reason": payment.return_reason or None,
            "source_format": payment.source_format,
            "source_line": payment.source_line,
        }

    def _as_core_payment(self, currency):
        """This payment as the core's matching takes it; ``currency`` is the journal company's
        currency name, resolved once for a batch."""
        self.ensure_one()
        return Payment(
            account=self.account or "",
            archive_id=self.archive_id or "",
            reference=self.reference or "",
            amount=_decimal(self.amount),
            currency=currency,
            payment_date=self.payment_date,
            booking_date=self.booking_date,
            payer_name=self.payer_name or "",
            is_correction=self.is_correction,
            source_format=self.source_format or "",
            source_line=str(self.id),
            message=self.message or "",
            reference_source=self.reference_source or "",
            charges=_decimal(self.charges),
            instructed_amount=(
                _decimal(self.instructed_amount) if self.instructed_amount else None
            ),
            return_reason=self.return_reason or "",
        )

    # ------------------------------------------------------------------
    # Processing
    # ------------------------------------------------------------------
    @api.model
    def _cron_process(self, batch_size=None):
        """Book and match staged payments, one committed batch at a time."""
        Cron = self.env["ir.cron"]
        batch_size = batch_size or int(
            self.env["ir.config_parameter"].sudo().get_param("membook.bank_batch_size", 2000)
        )
        domain = [("state", "=", "new")]
        Cron._commit_progress(remaining=self.search_count(domain))
        conflicts = 0
        while True:
            batch = lock_next_batch(self, domain, batch_size)
            if not batch:
                break
            # One chatter line per payment and per paid invoice would cost more than the
            # booking itself; the payment records and the reconciliations are the trail.
            batch = batch.with_context(tracking_disable=True, mail_notrack=True)
            try:
                batch._process_batch()
            except TransactionRollbackError:
                # A concurrent transaction changed what this batch read (see _open_items), or
                # PostgreSQL broke a deadlock: nothing of the batch is kept. Take it again in
                # a new transaction, which sees the other's work.
                conflicts += 1
                if conflicts > MAX_BATCH_CONFLICTS:
                    raise
                _logger.info("Bank payments: batch in conflict, taken again (%s)", conflicts)
                self.env.cr.rollback()
                continue
            conflicts = 0
            if not Cron._commit_progress(len(batch)):
                break

    def _process_batch(self):
        """Process a locked batch; when a fast path fails with a database or programming
        error, undo the batch to its savepoint and do it again through Odoo's paths."""
        reason = self._membook_item_copy_blocker()
        try:
            with self.env.cr.savepoint():
                for _journal, payments in self.grouped("journal_id").items():
                    payments._process()
        except TransactionRollbackError:
            raise
        except FAST_PATH_ERRORS as exc:
            if reason:  # Odoo's paths failed: nothing to fall back on
                raise
            reason = self.env._("a fast path failed (%s): Odoo booked the batch", repr(exc))
            _logger.warning("Bank payments: %s", reason)
            batch = self.with_context(membook_fast_paths_off=reason)
            for _journal, payments in batch.grouped("journal_id").items():
                payments._process()
        if reason:
            _logger.info("Bank payments: Odoo books and reconciles the batch: %s", reason)
            self.write({"fast_path_note": reason})

    @api.model
    def _membook_item_copy_blocker(self):
        """Why the payers' items and their reconciliation are not to be written in SQL (see
        ``_copy_item``), or None."""
        if reason := fast_paths_off(self.env):
            return reason
        env = self.env
        copied = stored_dependents(
            env,
            "account.move.line",
            ["partner_id", "name", "balance", "amount_currency", "debit", "credit"],
        )
        copied = {name for name in copied if name.startswith("account.move.line.")}
        if unknown := copied - ITEM_COPY_KNOWN_DEPENDENTS:
            return f"stored fields depend on the payer's item: {', '.join(sorted(unknown))}"
        for (model, method), known in ITEM_COPY_KNOWN_OVERRIDES.items():
            for module in overriding_modules(env, model, method):
                if module not in known:
                    return f"{module} overrides {model}.{method}"
        if env["account.analytic.distribution.model"].sudo().search_count([], limit=1):
            return "analytic distribution models may give each payer's item its own"
        return None

    def _open_items(self, keys):
        """Open receivable lines of posted customer invoices carrying one of ``keys``, locked
        with their invoices until the batch commits."""
        if not keys:
            return self.env["account.move.line"]
        domain = [
            ("company_id", "=", self.journal_id.company_id.id),
            ("move_id.membook_reference_key", "in", list(keys)),
            ("move_id.move_type", "=", "out_invoice"),
            ("parent_state", "=", "posted"),
            ("account_id.account_type", "=", "asset_receivable"),
            ("reconciled", "=", False),
            ("amount_residual", ">", 0),
        ]
        items = self.env["account.move.line"].search(domain, order="date_maturity, id")
        if not items:
            return items
        # Another copy of the scheduled action, or a person, may be paying one of these
        # invoices right now (a member who paid twice, in two batches). Locking them first
        # makes this batch wait for that to commit; then, as Odoo's transactions keep the
        # snapshot they started with, PostgreSQL refuses the lock (a serialization failure)
        # and _cron_process runs the batch again on fresh data, before any work is done on
        # what it read. In id order: batches never wait on each other in a circle.
        # (Not logged as a failed query: the conflict is expected, and handled.)
        self.env.cr.execute(
            SQL(
                """
            SELECT move.id FROM account_move move
             WHERE move.id IN (SELECT move_id FROM account_move_line WHERE id = ANY(%s))
             ORDER BY move.id FOR NO KEY UPDATE
            """,
                items.ids,
            ),
            log_exceptions=False,
        )
        self.env.cr.execute(
            SQL(
                "SELECT id FROM account_move_line WHERE id = ANY(%s) ORDER BY id"
                " FOR NO KEY UPDATE",
                items.ids,
            ),
            log_exceptions=False,
        )
        return items

    def _open_item_facts(self, items):
        """What matching and booking read of the open items ``items``, in one query (the ORM
        reads them field by field): {item id: row}."""
        if not items:
            return {}
        items.flush_recordset(
            ["move_id", "account_id", "amount_residual", "partner_id", "date_maturity", "date"]
        )
        items.move_id.flush_recordset(["payment_reference", "invoice_date"])
        rows = self.env.execute_query_dict(
            SQL(
                """
            SELECT line.id, line.move_id, line.account_id, line.amount_residual,
                   line.partner_id, partner.commercial_partner_id,
                   COALESCE(line.date_maturity, line.date) AS due_date,
                   move.payment_reference, move.invoice_date
              FROM account_move_line line
              JOIN account_move move ON move.id = line.move_id
              LEFT JOIN res_partner partner ON partner.id = line.partner_id
             WHERE line.id = ANY(%s)
            """,
                items.ids,
            )
        )
        return {row["id"]: row for row in rows}

    def _known_payments(self):
        """Earlier payments of the journal a correction in this batch may reverse."""
        corrections = self.filtered("is_correction")
        if not corrections:
            return self.browse()
        return self.search(
            [
                ("journal_id", "=", self.journal_id.id),
                ("state", "!=", "new"),
                ("is_correction", "=", False),
                "|",
                ("archive_id", "in", [a for a in corrections.mapped("archive_id") if a]),
                ("reference_key", "in", [k for k in corrections.mapped("reference_key") if k]),
            ]
        )

    def _process(self):
        """Match these staged payments of one journal, book them and reconcile the matches."""
        journal = self.journal_id
        keys = {key for key in self.mapped("reference_key") if key}
        items = self._open_items(keys)
        facts = self._open_item_facts(items)
        known = self._known_payments()
        by_line = {str(payment.id): payment for payment in self}
        decisions = matching.match_payments(
            [payment._as_core_payment(journal.company_id.currency_id.name) for payment in self],
            [
                matching.OpenItem(
                    item_id=row["id"],
                    reference=row["payment_reference"] or "",
                    open_amount=_decimal(row["amount_residual"]),
                    partner_id=row["partner_id"],
                    due_date=row["due_date"],
                    invoice_date=row["invoice_date"],
                )
                for row in (facts[line_id] for line_id in items.ids)
            ],
            known_payments=[
                matching.KnownPayment(
                    account=old.account or "",
                    archive_id=old.archive_id or "",
                    reference=old.reference or "",
                    amount=_decimal(old.amount),
                    reversed=bool(old.reversed_by_id),
                    payment_date=old.payment_date,
                )
                for old in known
            ],
            reference_kinds=journal._membook_reference_kinds(),
        )
        lines_by_id = {line.id: line for line in items}  # one prefetch set for all reads
        plans = []
        for decision in decisions:
            payment = by_line[decision.payment.source_line]
            item_lines = [lines_by_id[alloc.item_id] for alloc in decision.allocations]
            plans.append((payment, decision, item_lines))
        matched = [plan for plan in plans if plan[1].kind.value in MATCHED_KINDS]
        others = [plan for plan in plans if plan[1].kind.value not in MATCHED_KINDS]
        payer = {
            payment: (
                facts[item_lines[0].id]["account_id"],
                facts[item_lines[0].id]["commercial_partner_id"],
            )
            for payment, _decision, item_lines in matched
        }
        # Payments for the queue go with the day's payments on the unidentified payments
        # account when the journal has one; corrections keep a statement line of their own.
        unidentified = journal.membook_unidentified_account_id
        queued = [
            plan
            for plan in others
            if unidentified
            and not plan[0].is_correction
            and plan[1].kind != matching.MatchKind.REVERSAL
        ]
        for payment, decision, _lines in queued:
            payer[payment] = (unidentified.id, decision.partner_id or None)
        # The invoices' side of the reconciliation, before booking too; the payments' items
        # are then booked reconciled.
        AccountMoveLine = self.env["account.move.line"]
        currency = journal.currency_id or journal.company_id.currency_id
        pending, slow = AccountMoveLine._membook_reconcile_invoices(
            [
                (
                    payment,
                    {
                        "account_id": payer[payment][0],
                        "partner_id": payer[payment][1],
                        "company_id": journal.company_id.id,
                        "currency_id": currency.id,
                        "date": payment.booking_date or payment.payment_date,
                        "amount": _decimal(payment.amount),
                    },
                    AccountMoveLine.browse([line.id for line in item_lines]),
                )
                for payment, _decision, item_lines in matched
            ]
        )
        booked = self._book_matched(
            journal,
            [(payment, *payer[payment]) for payment, *_rest in matched + queued],
            pending["credits"],
        )
        singles = self._book_singly(journal, [plan for plan in others if plan not in queued])
        updates, links = [], []
        for payment, decision, item_lines in matched:
            line_id, st_line_id = booked[payment]
            updates.append(
                (
                    payment.id,
                    "matched",
                    decision.kind.value,
                    decision.reason,
                    float(decision.unapplied),
                    payer[payment][1],
                    st_line_id,
                    line_id,
                )
            )
            links += [
                (payment.id, move_id)
                for move_id in {facts[line.id]["move_id"] for line in item_lines}
            ]
        for payment, decision, _item_lines in others:
            line_id, st_line_id = booked.get(payment) or (None, singles[payment].id)
            updates.append(
                (
                    payment.id,
                    "reversal" if decision.kind == matching.MatchKind.REVERSAL else "to_check",
                    decision.kind.value,
                    decision.reason,
                    float(decision.unapplied),
                    decision.partner_id or None,
                    st_line_id,
                    line_id,
                )
            )
        self._record_outcomes(updates, links)
        AccountMoveLine._membook_reconcile_credits(
            pending, {payment: booked[payment][0] for payment in pending["credits"]}
        )
        slow = set(slow)
        AccountMoveLine._membook_reconcile_with_odoo(
            [
                (
                    AccountMoveLine.browse(booked[payment][0]),
                    AccountMoveLine.browse([line.id for line in item_lines]),
                )
                for payment, _decision, item_lines in matched
                if payment in slow
            ]
        )
        for payment, decision, _lines in others:
            if decision.kind == matching.MatchKind.REVERSAL:
                payment._reverse_original(decision.reverses)
        self.filtered(lambda payment: payment.state == "to_check")._membook_place_unmatched()

    def _membook_place_unmatched(self):
        """Hook for payments of one journal that matched no invoice: they are booked and wait
        in the unmatched queue (``to_check``). An extension that recognises one of them (the
        payout of a payment service, say) books it and takes it out of the queue. Nothing here.
        """
        return True

    @api.model
    def _statement_lines(self):
        return self.env["account.bank.statement.line"].with_context(
            tracking_disable=True, mail_notrack=True, mail_create_nolog=True
        )

    def _record_outcomes(self, updates, links):
        """Write what processing decided on each payment, in two statements for the batch.

        ``updates``: (payment id, state, match kind, reason, unapplied, partner id, statement
        line id, counterpart item id); ``links``: (payment id, invoice id) pairs. The ORM would
        write them one payment at a time; nothing stored depends on these fields.
        """
        self.flush_recordset()
        cr = self.env.cr
        cr.execute_values(
            f"""
            UPDATE membook_bank_payment p
               SET state = v.state, match_kind = v.kind, match_reason = v.reason,
                   unapplied_amount = v.unapplied::numeric, partner_id = v.partner::int,
                   statement_line_id = v.st_line::int, counterpart_line_id = v.item::int,
                   write_uid = {int(self.env.uid)}, write_date = now() AT TIME ZONE 'UTC'
              FROM (VALUES %s) AS v(id, state, kind, reason, unapplied, partner, st_line, item)
             WHERE p.id = v.id
            """,
            updates,
            page_size=1000,
        )
        if links:
            field = self._fields["invoice_ids"]
            cr.execute_values(
                f"INSERT INTO {field.relation} ({field.column1}, {field.column2}) VALUES %s"
                " ON CONFLICT DO NOTHING",
                links,
                page_size=1000,
            )
        self.invalidate_recordset()

    @api.model
    def _book_matched(self, journal, payers, reconciled=None):
        """Book matched payments together: one statement line per booking date.

        The bank shows a day's reference payments as one credit on the account statement, so
        the day's matched payments of a batch make one statement line: its entry debits the bank
        with the total and credits each payer's receivable with what that payer paid. Each
        payment keeps its own counterpart item, which is reconciled with the invoices it pays
        (and unreconciled if the payment is reversed). ``payers`` holds (payment, receivable
        account id, partner id); returns {payment: (counterpart item id, statement line id)}.
        Payments waiting in the unmatched queue come with the journal's unidentified payments
        account instead of a receivable: they make a statement line of their own for the day,
        and each is assigned from its item on that account. ``reconciled`` holds, by payment,
        the reconciliation columns its item is booked with (see
        ``account.move.line._membook_reconcile_invoices``).

        Odoo books the entry with the bank item and the first payer's item for the whole
        total; the other payers' items are then copied from that one in SQL, changing only the
        payer, label and amounts (creating thousands of journal items through the ORM costs
        about 10 ms each). A test compares these items with ones the ORM creates.
        """
        # One entry per date and receivable account: the copies share the first item's account.
        groups = {}
        for payment, account_id, partner_id in payers:
            date = payment.booking_date or payment.payment_date
            groups.setdefault((date, account_id), []).append((payment, partner_id))
        currency = journal.currency_id or journal.company_id.currency_id
        groups = sorted(groups.items())
        vals_list = []
        for (date, account_id), rows in groups:
            if account_id == journal.membook_unidentified_account_id.id:
                label = self.env._(
                    "Unidentified payments of %(date)s: %(count)s",
                    date=fields.Date.to_string(date),
                    count=len(rows),
                )
            else:
                label = self.env._(
                    "Reference payments of %(date)s: %(count)s",
                    date=fields.Date.to_string(date),
                    count=len(rows),
                )
            amount = sum(_decimal(payment.amount) for payment, _partner in rows)
            first_payment, first_partner = rows[0]
            vals_list.append(
                {
                    "journal_id": journal.id,
                    "date": date,
                    "amount": float(amount),
                    "payment_ref": label,
                    "line_ids": [
                        Command.create(
                            {
                                "name": label,
                                "account_id": journal.default_account_id.id,
                                "currency_id": currency.id,
                                "amount_currency": float(amount),
                                "debit": float(amount),
                                "credit": 0.0,
                            }
                        ),
                        Command.create(
                            {
                                "name": first_payment._membook_item_label(),
                                "account_id": account_id,
                                "partner_id": first_partner,
                                "currency_id": currency.id,
                                "amount_currency": -float(amount),
                                "debit": 0.0,
                                "credit": float(amount),
                            }
                        ),
                    ],
                }
            )
        by_odoo = self._membook_item_copy_blocker()
        if by_odoo:
            # Odoo creates every payer's item; none is reconciled yet (see
            # account.move.line's _membook_reconcile_invoices, which checks the same).
            for vals, ((_date, _account_id), rows) in zip(vals_list, groups, strict=True):
                template = vals["line_ids"][1][2]
                vals["line_ids"][1:] = [
                    Command.create(
                        {
                            **template,
                            "name": payment._membook_item_label(),
                            "partner_id": partner_id,
                            "amount_currency": -float(payment.amount),
                            "credit": float(payment.amount),
                        }
                    )
                    for payment, partner_id in rows
                ]
        # One create for all the entries: Odoo's cost of creating and posting them is mostly
        # per call, not per entry.
        st_lines = self._statement_lines().create(vals_list)
        if by_odoo:
            counterparts = {}
            for ((_date, account_id), rows), st_line in zip(groups, st_lines, strict=True):
                items = st_line.move_id.line_ids.filtered(
                    lambda line, account_id=account_id: line.account_id.id == account_id
                ).sorted("id")
                if len(items) != len(rows):
                    raise UserError(
                        self.env._("The bank entry %s was not booked as expected.", st_line.name)
                    )
                for (payment, _partner_id), item in zip(rows, items, strict=True):
                    counterparts[payment] = (item.id, st_line.id)
            return counterparts
        counterparts = {}
        templates = []
        for ((_date, account_id), _rows), st_line in zip(groups, st_lines, strict=True):
            template = st_line.move_id.line_ids.filtered(
                lambda line, account_id=account_id: line.account_id.id == account_id
            )
            if len(template) != 1:
                raise UserError(
                    self.env._("The bank entry %s was not booked as expected.", st_line.name)
                )
            templates.append(template)
        for ((_date, _account_id), rows), st_line, template in zip(
            groups, st_lines, templates, strict=True
        ):
            ids = self._copy_item(
                template,
                [
                    (
                        partner_id,
                        payment._membook_item_label(),
                        _decimal(payment.amount),
                        (reconciled or {}).get(payment),
                    )
                    for payment, partner_id in rows
                ],
            )
            for (payment, *_rest), line_id in zip(rows, ids, strict=True):
                counterparts[payment] = (line_id, st_line.id)
        return counterparts

    def _membook_item_label(self):
        """The label of this payment's item on the day entry: what identifies it best."""
        return self.reference or self.message or self.payer_name or self.archive_id

    @api.model
    def _copy_item(self, template, rows):
        """Turn credit item ``template`` into one item per (partner id, label, amount,
        reconciliation) row, where reconciliation is None for an open item or the (residual,
        reconciled, full reconcile id, matching number) it is booked with.

        The first row takes over the template, the others are copies of it; the amounts add
        up to the template's, so the entry stays balanced. Returns the item ids in row order.
        """
        AccountMoveLine = self.env["account.move.line"]
        # Everything pending is computed while the entry has its two items (its statement
        # line's residual reads them all); the copies change nothing it depends on.
        self.env.flush_all()
        cr = self.env.cr
        ids = [template.id, *next_ids(cr, "account_move_line", len(rows) - 1)]
        values = []
        for line_id, (partner_id, name, amount, reconciliation) in zip(ids, rows, strict=True):
            reconciliation = reconciliation or (-amount, False, None, None)
            values.append((line_id, partner_id, name, amount, *reconciliation))
        changed = (
            "partner_id",
            "name",
            "debit",
            "credit",
            "balance",
            "amount_currency",
            "price_subtotal",
            "price_total",
            "amount_residual",
            "amount_residual_currency",
            "reconciled",
            "full_reconcile_id",
            "matching_number",
        )
        cr.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = 'account_move_line' AND table_schema = current_schema()"
        )
        kept = [name for (name,) in cr.fetchall() if name not in ("id", *changed)]
        kept_sql = ", ".join(f"t.{name}" for name in kept)
        columns_sql = ", ".join(["id", *changed, *kept])
        amounts = "-v.amount::numeric"
        if len(values) > 1:
            cr.execute_values(
                f"""
            INSERT INTO account_move_line ({columns_sql})
            SELECT v.id::int, v.partner::int, v.name, 0, v.amount::numeric, {amounts},
                   {amounts}, {amounts}, {amounts}, v.residual::numeric, v.residual::numeric,
                   v.reconciled, v.full_id::int, v.number, {kept_sql}
              FROM (VALUES %s) AS v(id, partner, name, amount, residual, reconciled, full_id,
                                    number)
              JOIN account_move_line t ON t.id = {int(template.id)}
            """,
                values[1:],
                page_size=1000,
            )
        line_id, partner_id, name, amount, residual, reconciled, full_id, number = values[0]
        cr.execute(
            """
            UPDATE account_move_line
               SET partner_id = %s, name = %s, debit = 0, credit = %s, balance = -%s,
                   amount_currency = -%s, price_subtotal = -%s, price_total = -%s,
                   amount_residual = %s, amount_residual_currency = %s, reconciled = %s,
                   full_reconcile_id = %s, matching_number = %s
             WHERE id = %s
            """,
            [
                partner_id,
                name,
                *([amount] * 5),
                residual,
                residual,
                reconciled,
                full_id,
                number,
                line_id,
            ],
        )
        AccountMoveLine.invalidate_model()
        template.move_id.invalidate_recordset(["line_ids"])
        return ids

    @api.model
    def _book_singly(self, journal, plans):
        """Book each payment a person must look at on its own statement line, on suspense.

        A correction with bank charges (a returned direct debit and its fee) takes the
        correction and the fee out of the bank together: the fee goes to the journal's bank
        charges account (on suspense too when it has none), the correction alone to suspense.
        """
        vals_list = []
        for payment, decision, _lines in plans:
            vals = {
                "journal_id": journal.id,
                "date": payment.booking_date or payment.payment_date,
                "amount": -payment.amount if payment.is_correction else payment.amount,
                "payment_ref": payment.reference or payment.message or payment.payer_name,
                "partner_name": payment.payer_name,
                "partner_id": decision.partner_id or False,
            }
            if payment.is_correction and payment.currency_id.compare_amounts(payment.charges, 0):
                vals.update(
                    payment._correction_with_charges_lines(journal, decision.partner_id or False)
                )
            vals_list.append(vals)
        st_lines = self._statement_lines().create(vals_list)
        return {plan[0]: st_line for plan, st_line in zip(plans, st_lines, strict=True)}

    def _correction_with_charges_lines(self, journal, partner_id):
        """Statement line values of this correction and its bank charges, booked together."""
        self.ensure_one()
        currency = journal.currency_id or journal.company_id.currency_id
        total = _decimal(self.amount) + _decimal(self.charges)
        fee_account = journal.membook_bank_fee_account_id or journal.suspense_account_id

        def item(name, account, amount):
            return Command.create(
                {
                    "name": name,
                    "account_id": account.id,
                    "partner_id": partner_id,
                    "currency_id": currency.id,
                    "amount_currency": float(amount),
                    "debit": float(max(amount, 0)),
                    "credit": float(max(-amount, 0)),
                }
            )

        label = self._membook_item_label()
        return {
            "amount": -float(total),
            "line_ids": [
                item(label, journal.default_account_id, -total),
                item(label, journal.suspense_account_id, _decimal(self.amount)),
                item(
                    self.env._("Bank charges: %(label)s", label=label),
                    fee_account,
                    _decimal(self.charges),
                ),
            ],
        }

    def _reverse_original(self, reverses):
        """Undo the payment this correction reverses: reopen its invoices, reverse allocations."""
        self.ensure_one()
        account, archive_id = reverses
        original = self.search(
            [
                ("journal_id", "=", self.journal_id.id),
                ("account", "=", account),
                ("archive_id", "=", archive_id),
                ("is_correction", "=", False),
            ],
            limit=1,
        )
        if not original:
            return
        original_counterparts = original.counterpart_line_id
        # The correction's item on suspense: the first one (its bank charges may follow there).
        reversal_line = self.statement_line_id.move_id.line_ids.filtered(
            lambda line: line.account_id == self.statement_line_id.journal_id.suspense_account_id
        ).sorted("id")[:1]
        if original_counterparts:
            # Reopen the invoices (which reverses the allocations, as of the correction's
            # date), then settle the original payment with this correction.
            original_counterparts.with_context(
                membook_allocation_date=self.payment_date or self.booking_date
            ).remove_move_reconcile()
            reversal_line.write(
                {
                    "account_id": original_counterparts[:1].account_id.id,
                    "partner_id": original_counterparts[:1].partner_id.id,
                }
            )
            self.env["account.move.line"]._reconcile_plan([original_counterparts | reversal_line])
        original.write({"state": "reversed", "reversed_by_id": self.id})
        self.write({"reverses_id": original.id, "invoice_ids": [(6, 0, original.invoice_ids.ids)]})

    # ------------------------------------------------------------------
    # Unmatched queue
    # ------------------------------------------------------------------
    def _suggestions(self, limit=5):
        """Open invoices this payment may pay, best first: [(invoice, score, reason)]."""
        self.ensure_one()
        Move = self.env["account.move"]
        domain = [
            ("company_id", "=", self.company_id.id),
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
        ]
        candidates = Move.search([*domain, ("amount_residual", "=", self.amount)], limit=200)
        key = self.reference_key or ""
        if len(key) >= 4:
            candidates |= Move.search(
                [*domain, ("membook_reference_key", "=like", key[:3] + "%")], limit=200
            )
        ranked = suggest(
            self.reference or "",
            _decimal(self.amount),
            self.payer_name or "",
            [
                Candidate(
                    move.id,
                    move.payment_reference or "",
                    _decimal(move.amount_residual),
                    move.partner_id.name or "",
                )
                for move in candidates
            ],
            limit=limit,
        )
        return [(Move.browse(s.item_id), s.score, s.reason) for s in ranked]

    @api.depends("reference", "amount", "payer_name", "state")
    def _compute_suggestion_text(self):
        for payment in self:
            if payment.state != "to_check" or not payment.id:
                payment.suggestion_text = False
                continue
            payment.suggestion_text = (
                "\n".join(
                    f"{move.name} ({move.partner_id.name}): {reason}"
                    for move, _score, reason in payment._suggestions()
                )
                or False
            )

    def _assign(self, invoices):
        """Reconcile this unmatched payment with ``invoices`` (oldest first) by hand."""
        self.ensure_one()
        if self.state != "to_check":
            raise UserError(self.env._("Only payments in the unmatched queue can be assigned."))
        if self.is_correction:
            raise UserError(
                self.env._("A correction cannot pay invoices; reverse the original payment.")
            )
        invoices = invoices.sorted(lambda m: (m.invoice_date_due or m.date, m.id))
        receivables = invoices.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable" and not line.reconciled
        )
        if not receivables:
            raise UserError(self.env._("These invoices have nothing open."))
        if len(receivables.account_id) > 1 or len(receivables.partner_id.commercial_partner_id) > 1:
            raise UserError(
                self.env._("Assign a payment to the invoices of one customer at a time.")
            )
        st_line = self.statement_line_id
        partner = receivables.partner_id.commercial_partner_id
        # Waiting on the unidentified payments account with the day's payments, or alone on
        # its own statement line on the suspense account: the item moves to the receivable.
        suspense = self.counterpart_line_id
        if not suspense:
            suspense = st_line.move_id.line_ids.filtered(
                lambda line: line.account_id == st_line.journal_id.suspense_account_id
            )
            st_line.partner_id = partner
        suspense.write({"account_id": receivables.account_id.id, "partner_id": partner.id})
        # Known before reconciling: the allocations link to this payment through its item.
        self.counterpart_line_id = suspense
        self.env["account.move.line"]._reconcile_plan([suspense | receivables])
        self.write(
            {
                "state": "assigned",
                "partner_id": partner.id,
                "invoice_ids": [(6, 0, invoices.ids)],
                "assigned_by_id": self.env.user.id,
                "assigned_at": fields.Datetime.now(),
            }
        )
        self.message_post(
            body=self.env._(
                "Assigned to %(invoices)s by %(user)s.",
                invoices=", ".join(invoices.mapped("name")),
                user=self.env.user.name,
            )
        )

    def action_assign_wizard(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Assign payment"),
            "res_model": "membook.payment.assign",
            "view_mode": "form",
            "target": "new",
            "context": {"default_bank_payment_id": self.id},
        }
