# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import float_is_zero, split_every

from nordic_billing.collection import (
    AgencyError,
    AgencyValidationError,
    Claim,
    Debtor,
    make_external_key,
)
from nordic_billing.collection.sync import ERROR, RETRY, failure_outcome, payment_changes
from nordic_billing.money import to_decimal

from .collection_backend import _naive_utc

_logger = logging.getLogger(__name__)

CASE_STATES = [
    ("draft", "Draft list"),
    ("approved", "Approved"),
    ("sending", "Sending"),
    ("open", "At agency"),
    ("paid", "Paid"),
    ("closed", "Closed"),
    ("returned", "Returned"),
    ("error", "Error"),
    ("unknown", "Unknown"),
]
#: States in which the case is, or may be, at the agency.
AT_AGENCY_STATES = ("sending", "unknown", "open", "paid")
#: States the scheduled action sends.
TO_SEND_STATES = ("approved", "sending", "unknown")
#: How long a case claimed for sending is left alone by other runs.
SENDING_LEASE = timedelta(minutes=15)


class CollectionCase(models.Model):
    """An overdue invoice on its way to, or at, a collection agency; also the exchange record.

    ``draft`` cases are the draft collection list; a user approves them; the scheduled action
    sends approved cases to the company's agency that creates new cases and keeps the agency's
    case number. The payload sent, the last error, the attempts and the next try are kept here.
    A case whose outcome is unknown is looked up at the agency by its external key before it is
    sent again, so there is never a second case for one invoice.
    """

    _name = "collection.case"
    _description = "Debt collection case"
    _inherit = ["mail.thread"]
    _check_company_auto = True
    _order = "id desc"
    _rec_names_search = ["case_number", "move_id"]

    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        required=True,
        readonly=True,
        ondelete="restrict",
        check_company=True,
    )
    company_id = fields.Many2one(related="move_id.company_id", store=True, index=True)
    partner_id = fields.Many2one(
        related="move_id.commercial_partner_id", string="Customer", store=True, index=True
    )
    currency_id = fields.Many2one(related="move_id.currency_id")
    invoice_date_due = fields.Date(related="move_id.invoice_date_due", store=True)
    amount_total = fields.Monetary(related="move_id.amount_total", string="Invoice total")
    amount_residual = fields.Monetary(related="move_id.amount_residual", string="Open amount")
    state = fields.Selection(
        CASE_STATES, default="draft", required=True, readonly=True, index=True, tracking=True
    )
    entry = fields.Selection(
        [("rules", "By the rules"), ("hand", "Moved by hand")],
        string="Entered",
        default="rules",
        readonly=True,
    )
    backend_id = fields.Many2one(
        "collection.backend",
        string="Agency",
        readonly=True,
        index="btree_not_null",
        check_company=True,
        tracking=True,
    )
    case_number = fields.Char(readonly=True, copy=False, index="btree_not_null", tracking=True)
    external_key = fields.Char(
        readonly=True, copy=False, help="Our unique key of the case at the agency."
    )
    payload = fields.Text(readonly=True, copy=False, help="What was sent to the agency (JSON).")
    error = fields.Text(readonly=True, copy=False)
    attempts = fields.Integer(readonly=True, copy=False)
    next_try = fields.Datetime(readonly=True, copy=False, index="btree_not_null")
    approved_uid = fields.Many2one("res.users", string="Approved by", readonly=True)
    approved_date = fields.Datetime(string="Approved on", readonly=True)
    sent_date = fields.Datetime(string="Sent on", readonly=True)
    cancel_requested = fields.Boolean(
        readonly=True, help="The invoice was credited in full: the case is to be withdrawn."
    )
    cancel_reason = fields.Char(readonly=True)
    maybe_at_agency = fields.Boolean(
        readonly=True,
        copy=False,
        help="A send may have reached the agency: the case is looked up before anything else.",
    )
    payments_dirty = fields.Boolean(
        readonly=True, help="Payments of the invoice changed since they were last compared."
    )
    collected_principal = fields.Monetary(readonly=True)
    collected_interest = fields.Monetary(readonly=True)
    collected_fees = fields.Monetary(readonly=True)
    collected_costs = fields.Monetary(readonly=True)
    agency_message = fields.Char(readonly=True)
    agency_updated_at = fields.Datetime(string="Agency update", readonly=True)
    operation_ids = fields.One2many(
        "collection.operation", "case_id", string="Payments and withdrawals"
    )
    settlement_line_ids = fields.One2many(
        "collection.settlement.line", "case_id", string="Settlement lines"
    )
    reminder_ids = fields.One2many(related="move_id.collection_reminder_ids")

    _move_uniq = models.UniqueIndex("(move_id)", "An invoice has one collection case.")
    _external_key_uniq = models.UniqueIndex(
        "(external_key) WHERE external_key IS NOT NULL", "The case key must be unique."
    )
    _case_number_uniq = models.UniqueIndex(
        "(backend_id, case_number) WHERE case_number IS NOT NULL",
        "The agency's case number must be unique per agency.",
    )

    @api.depends("move_id", "case_number")
    def _compute_display_name(self):
        for case in self:
            name = case.move_id.name or ""
            case.display_name = f"{name} ({case.case_number})" if case.case_number else name

    @api.ondelete(at_uninstall=False)
    def _unlink_only_draft(self):
        if any(case.state != "draft" for case in self):
            raise UserError(self.env._("Only cases of the draft collection list can be removed."))

    # ------------------------------------------------------------------
    # Draft list
    # ------------------------------------------------------------------
    @api.model
    def _trigger_send(self):
        """Run the sending scheduled action soon, and every copy of it (see base_cron_batch)."""
        self.env["ir.cron"]._wake_every_copy_of("collection_connector.ir_cron_collection_send")

    @api.model
    def _create_draft(self, moves, entry="rules"):
        return self.create([{"move_id": move.id, "entry": entry} for move in moves])

    @api.model
    def _action_open_draft_list(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "collection_connector.collection_case_action_draft"
        )

    def action_approve(self):
        """Approve draft cases: the scheduled action sends them to the agency."""
        drafts = self.filtered(lambda c: c.state == "draft")
        for case in drafts:
            move = case.move_id
            if move.state != "posted" or move.payment_state not in ("not_paid", "partial"):
                raise UserError(
                    self.env._(
                        "Invoice %(invoice)s is paid or no longer posted: remove it from the list.",
                        invoice=move.name,
                    )
                )
        drafts.write(
            {
                "state": "approved",
                "approved_uid": self.env.uid,
                "approved_date": fields.Datetime.now(),
                "next_try": False,
            }
        )
        self.env["collection.case"]._trigger_send()
        return True

    def action_back_to_draft(self):
        self.filtered(lambda c: c.state == "approved").write(
            {"state": "draft", "approved_uid": False, "approved_date": False}
        )
        return True

    def action_remove(self):
        """Take invoices off the draft list and keep them off (the invoice remembers it)."""
        drafts = self.filtered(lambda c: c.state == "draft")
        drafts.move_id.write({"collection_hold": True})
        for case in drafts:
            case.move_id._message_log(
                body=self.env._(
                    "Taken off the draft collection list by %(user)s.", user=self.env.user.name
                )
            )
        drafts.unlink()
        return True

    def action_retry(self):
        """Send a case that failed again, after its data or the agency settings were fixed."""
        self.filtered(lambda c: c.state == "error").write(
            {"state": "approved", "attempts": 0, "next_try": False, "error": False}
        )
        self.env["collection.case"]._trigger_send()
        return True

    @api.model
    def _cron_fill_draft_list(self):
        """Scheduled action: put the invoices whose entry day has come on the draft list."""
        Cron = self.env["ir.cron"]
        Move = self.env["account.move"]
        today = fields.Date.context_today(self)
        batch_size = self.env["collection.reminder"]._batch_size()
        # Drafts whose invoice got paid or credited meanwhile leave the list.
        stale = self.search(
            Domain("state", "=", "draft")
            & (
                Domain("move_id.payment_state", "not in", ("not_paid", "partial"))
                | Domain("move_id.state", "!=", "posted")
            )
        )
        stale.unlink()
        for backend in self.env["collection.backend"].search([("creates_cases", "=", True)]):
            domain = Move._collection_overdue_domain(today) & Domain(
                [("company_id", "=", backend.company_id.id), ("collection_hold", "=", False)]
            )
            moves = Move.search(domain, order="id")
            Cron._commit_progress(remaining=len(moves))
            for ids in split_every(batch_size, moves.ids):
                Move.browse(ids)._collection_enter_draft_list(backend, today)
                if not Cron._commit_progress(len(ids)):
                    return

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------
    def _prepare_debtor(self):
        return self.move_id.partner_id._prepare_collection_debtor()

    def _prepare_claim(self):
        self.ensure_one()
        move = self.move_id
        fees = move.collection_fee_ids.filtered(
            lambda f: f.state == "posted" and f.currency_id == move.currency_id
        )
        sent = move.collection_reminder_ids.filtered(lambda r: r.state == "sent")
        return Claim(
            external_key=self.external_key,
            invoice_number=move.name,
            invoice_date=move.invoice_date,
            due_date=move.invoice_date_due,
            original_amount=_money(move.amount_total),
            outstanding_amount=_money(move.amount_residual),
            currency=move.currency_id.name,
            reference=move.payment_reference or "",
            reminder_fees=_money(sum(fees.mapped("amount_residual"))),
            last_reminder_date=max(sent.mapped("send_date")) if sent else None,
        )

    def _claim_for_sending(self):
        """Fix the agency, the key and the payload of approved cases and lease them.

        Returns the cases to send; the others (no agency, invoice settled, bad data) get their
        state here.
        """
        now = fields.Datetime.now()
        to_send = self.browse()
        for case in self:
            backend = case.backend_id or self.env["collection.backend"]._creating_backend(
                case.company_id
            )
            if not backend:
                case.write(
                    {
                        "next_try": now + timedelta(hours=1),
                        "error": self.env._("No collection agency creates new cases."),
                    }
                )
                continue
            values = {"backend_id": backend.id, "state": "sending", "next_try": now + SENDING_LEASE}
            if not case.external_key:
                try:
                    values["external_key"] = make_external_key(
                        case.company_id.id, case.move_id.name, prefix=backend.key_prefix or ""
                    )
                except ValueError as exc:
                    case.write({"state": "error", "error": str(exc)})
                    continue
            case.write(values)
            if case.state == "sending" and not case.case_number and not case.cancel_requested:
                if float_is_zero(
                    case.amount_residual, precision_rounding=case.currency_id.rounding
                ):
                    case.write(
                        {
                            "state": "closed",
                            "next_try": False,
                            "error": self.env._("The invoice was settled before it was sent."),
                        }
                    )
                    continue
                try:
                    payload = {
                        "debtor": case._prepare_debtor().to_json(),
                        "claim": case._prepare_claim().to_json(),
                    }
                except ValueError as exc:
                    case.write({"state": "error", "error": str(exc), "next_try": False})
                    continue
                case.payload = json.dumps(payload, indent=2, sort_keys=True)
            to_send |= case
        return to_send

    def _send(self, adapter):
        """One attempt each: create (or find) the case at the agency. Never sends blindly twice:
        the adapter looks the key up first. A case credited in full meanwhile is only looked up,
        and withdrawn when it exists."""
        for case in self:
            case.attempts += 1
            try:
                if case.cancel_requested:
                    ref = adapter.find_case(case.external_key)
                    if ref is None:
                        case.write(
                            {
                                "state": "closed",
                                "next_try": False,
                                "error": False,
                                "cancel_requested": False,
                            }
                        )
                        case.message_post(
                            body=self.env._("Credited in full before it reached the agency.")
                        )
                        continue
                else:
                    payload = json.loads(case.payload)
                    ref = adapter.create_case(
                        Debtor.from_json(payload["debtor"]), Claim.from_json(payload["claim"])
                    )
            except AgencyError as exc:
                case._record_failure(exc)
                continue
            case.write(
                {
                    "state": ref.status,
                    "case_number": ref.case_number,
                    "error": False,
                    "next_try": False,
                    "sent_date": fields.Datetime.now(),
                    "payments_dirty": True,
                }
            )
            case.message_post(
                body=self.env._(
                    "Handed over to %(agency)s as case %(number)s.",
                    agency=case.backend_id.name,
                    number=ref.case_number,
                )
            )
            if case.cancel_requested:
                case._queue_cancel(case.cancel_reason)

    def _record_failure(self, exc):
        self.ensure_one()
        outcome = failure_outcome(exc, max(self.attempts, 1))
        if isinstance(exc, AgencyValidationError):
            # The agency refused the case after looking its key up: it has none.
            maybe_at_agency = False
        else:
            maybe_at_agency = self.maybe_at_agency or outcome.state not in (ERROR, RETRY)
        if outcome.state == ERROR and not maybe_at_agency:
            state, next_try = "error", False
        elif outcome.state == ERROR:
            # Refused now, but an earlier send may have gone through: keep looking it up.
            state, next_try = "unknown", fields.Datetime.now() + timedelta(hours=1)
        else:
            state = "unknown" if maybe_at_agency else "approved"
            next_try = fields.Datetime.now() + outcome.retry_in
        self.write(
            {
                "state": state,
                "error": outcome.message,
                "next_try": next_try,
                "maybe_at_agency": maybe_at_agency,
            }
        )

    @api.model
    def _cron_send(self):
        """Scheduled action: send approved cases, then the pending payment and cancel messages.

        Cases are claimed (state sending, leased) and committed before the agency is called, so
        a run that is killed leaves them to be looked up by the next one.
        """
        Cron = self.env["ir.cron"]
        batch_size = self.env["collection.reminder"]._batch_size()
        now = fields.Datetime.now()
        domain = Domain("state", "in", TO_SEND_STATES) & (
            Domain("next_try", "=", False) | Domain("next_try", "<=", now)
        )
        Cron._commit_progress(remaining=self.search_count(domain))
        while True:
            # The next cases no other copy of this action holds: one sending the first page
            # does not stop this one early.
            cases = Cron._lock_next_batch(self, domain, batch_size, order="next_try, id")
            if not cases:
                break
            to_send = cases._claim_for_sending()
            Cron._commit_progress()
            for backend, group in to_send.grouped("backend_id").items():
                with backend._get_adapter() as adapter:
                    group._send(adapter)
            if not Cron._commit_progress(len(cases)):
                return
        # Payments of cases at an agency, then every pending message.
        dirty = self.search([("payments_dirty", "=", True), ("state", "in", ("open", "paid"))])
        for ids in split_every(batch_size, dirty.ids):
            self.browse(ids)._sync_payments()
            Cron._commit_progress()
        self.env["collection.operation"]._send_pending()

    # ------------------------------------------------------------------
    # Payments and credit notes
    # ------------------------------------------------------------------
    def _invoice_payments(self):
        """{payment id: (amount, date)} of what paid the invoice, in the invoice currency.

        One payment per reconciliation; the full credit note and our own booking of the
        agency's settlements are not payments the agency needs to hear of.
        """
        self.ensure_one()
        move = self.move_id
        lines = move.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        partials = lines.matched_credit_ids
        exchange_moves = partials.exchange_move_id
        payments = {}
        for partial in partials:
            counterpart = partial.credit_move_id.move_id
            if counterpart in exchange_moves or counterpart.collection_backend_id:
                continue
            if counterpart.move_type == "out_refund" and counterpart.reversed_entry_id == move:
                continue
            payments[f"apr-{partial.id}"] = (
                _money(partial.debit_amount_currency),
                partial.credit_move_id.date,
            )
        return payments

    def _sync_payments(self):
        """Queue a payment message for every payment on the invoice the agency does not know,
        and a reversal for every one that was undone."""
        today = fields.Date.context_today(self)
        Operation = self.env["collection.operation"]
        for case in self:
            reported = {
                op.key: _money(op.amount) for op in case.operation_ids if op.kind == "payment"
            }
            changes = payment_changes(case._invoice_payments(), reported, today=today)
            Operation.create(
                [
                    {
                        "case_id": case.id,
                        "kind": "payment",
                        "key": change.payment_id,
                        "amount": float(change.amount),
                        "date": change.date,
                    }
                    for change in changes
                ]
            )
            case.payments_dirty = False

    def _queue_cancel(self, reason):
        self.ensure_one()
        if not self.operation_ids.filtered(lambda op: op.kind == "cancel"):
            self.env["collection.operation"].create(
                {
                    "case_id": self.id,
                    "kind": "cancel",
                    "key": "cancel",
                    "reason": reason,
                    "date": fields.Date.context_today(self),
                }
            )
        self.cancel_requested = False

    def _on_full_credit(self, refund):
        """The invoice was credited in full by ``refund``: withdraw the case."""
        self.ensure_one()
        reason = self.env._(
            "Invoice %(invoice)s credited in full by %(refund)s",
            invoice=self.move_id.name,
            refund=refund.name,
        )
        if self.state == "draft":
            self.unlink()
        elif self.state in ("approved", "error"):
            self.write({"state": "closed", "next_try": False, "error": False})
            self.message_post(body=reason)
        elif self.state in ("sending", "unknown"):
            self.write({"cancel_requested": True, "cancel_reason": reason})
        elif self.state in ("open", "paid"):
            self._queue_cancel(reason)
        self.env["collection.case"]._trigger_send()

    # ------------------------------------------------------------------
    # Agency updates
    # ------------------------------------------------------------------
    @api.model
    def _apply_updates(self, backend, updates):
        """Write the agency's view of its cases (snapshots, so applying twice is harmless)."""
        if not updates:
            return self.browse()
        cases = self.search(
            [
                ("backend_id", "=", backend.id),
                ("case_number", "in", [u.case_number for u in updates]),
            ]
        )
        by_number = {case.case_number: case for case in cases}
        for update in updates:
            case = by_number.get(update.case_number)
            if not case:
                continue
            updated_at = _naive_utc(update.updated_at)
            if case.agency_updated_at and case.agency_updated_at > updated_at:
                continue
            values = {
                "collected_principal": float(update.collected_principal),
                "collected_interest": float(update.collected_interest),
                "collected_fees": float(update.collected_fees),
                "collected_costs": float(update.collected_costs),
                "agency_message": update.message or False,
                "agency_updated_at": updated_at,
            }
            if case.state in ("open", "paid", "closed", "returned"):
                values["state"] = update.status
            case.write(values)
        return cases


# A float amount from Odoo as the Decimal with two decimals the agency expects.
_money = to_decimal
