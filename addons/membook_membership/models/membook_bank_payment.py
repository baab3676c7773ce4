# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from psycopg2.extensions import TransactionRollbackError

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from nordic_billing.money import to_decimal
from nordic_billing.payment import Payment
from nordic_billing.references import normalise_for_matching
from nordic_billing.suggestions import Candidate, suggest

from .batching import insert_rows
from .registry_checks import FAST_PATH_ERRORS

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
# Times in a row a batch is taken again after a conflict with a concurrent transaction.
MAX_BATCH_CONFLICTS = 3

_logger = logging.getLogger(__name__)


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
                SQL(
                    """
                SELECT account, archive_id, is_correction FROM membook_bank_payment
                 WHERE journal_id = %s AND archive_id = ANY(%s)
                """,
                    journal.id,
                    archive_ids,
                )
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

    def _membook_paid_amount(self):
        """What the payer paid (a Decimal): the amount credited, and for an incoming payment
        the charges the bank deducted before crediting it (camt ``Chrgs``). The invoices count
        as paid by this; the bank day books the charges to the journal's bank charges account.
        A correction's charges are the bank's fee on top of the amount taken back."""
        self.ensure_one()
        if self.is_correction:
            return to_decimal(self.amount)
        return to_decimal(self.amount) + to_decimal(self.charges)

    def _membook_incoming_charges(self):
        """The bank charges deducted from this incoming payment before it was credited (a
        Decimal, zero for a correction, whose charges are booked with it apart)."""
        self.ensure_one()
        return to_decimal(0 if self.is_correction else self.charges)

    def _as_core_payment(self, currency):
        """This payment as the core's matching takes it; ``currency`` is the journal company's
        currency name, resolved once for a batch. Its amount is what the payer paid (see
        ``_membook_paid_amount``)."""
        self.ensure_one()
        return Payment(
            account=self.account or "",
            archive_id=self.archive_id or "",
            reference=self.reference or "",
            amount=self._membook_paid_amount(),
            currency=currency,
            payment_date=self.payment_date,
            booking_date=self.booking_date,
            payer_name=self.payer_name or "",
            is_correction=self.is_correction,
            source_format=self.source_format or "",
            source_line=str(self.id),
            message=self.message or "",
            reference_source=self.reference_source or "",
            charges=to_decimal(self.charges),
            instructed_amount=(
                to_decimal(self.instructed_amount) if self.instructed_amount else None
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
            batch = Cron._lock_next_batch(self, domain, batch_size)
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
        paid = self._membook_paid_amount()
        candidates = Move.search([*domain, ("amount_residual", "=", float(paid))], limit=200)
        key = self.reference_key or ""
        if len(key) >= 4:
            candidates |= Move.search(
                [*domain, ("membook_reference_key", "=like", key[:3] + "%")], limit=200
            )
        ranked = suggest(
            self.reference or "",
            paid,
            self.payer_name or "",
            [
                Candidate(
                    move.id,
                    move.payment_reference or "",
                    to_decimal(move.amount_residual),
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
            # The payer's credit: the bank charges deducted from the payment may wait on
            # suspense too, as a debit.
            suspense = st_line.move_id.line_ids.filtered(
                lambda line: line.account_id == st_line.journal_id.suspense_account_id
                and line.balance < 0
            )
            # Odoo would rebuild the statement line's entry for the new partner and refuse to
            # delete the posted charges item: the items get their partner below instead.
            st_line.with_context(skip_account_move_synchronization=True).partner_id = partner
        suspense.write({"account_id": receivables.account_id.id, "partner_id": partner.id})
        # Known before reconciling: the allocations link to this payment through its item.
        self.counterpart_line_id = suspense
        self.env["account.move.line"]._reconcile_plan([suspense | receivables])
        self.write(
            {
                "state": "assigned",
                # What the invoices did not take stays on the payer's account: the unapplied.
                "unapplied_amount": abs(sum(suspense.mapped("amount_residual"))),
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
