# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain

from nordic_billing.collection import rules

from .collection_case import AT_AGENCY_STATES, CASE_STATES


class AccountMove(models.Model):
    _inherit = "account.move"

    collection_case_ids = fields.One2many(
        "collection.case",
        "move_id",
        string="Collection cases",
        groups="collection_connector.group_collection_user",
    )
    collection_case_number = fields.Char(
        string="Collection case",
        compute="_compute_collection_case",
        store=True,
        help="The agency's number of the case this invoice is in.",
    )
    collection_state = fields.Selection(
        CASE_STATES,
        string="Collection",
        compute="_compute_collection_case",
        store=True,
        index="btree_not_null",
    )
    collection_reminder_ids = fields.One2many(
        "collection.reminder",
        "move_id",
        string="Reminders",
        groups="collection_connector.group_collection_user",
    )
    collection_factoring = fields.Boolean(
        string="Financed by factoring",
        copy=False,
        tracking=True,
        help="The invoice was sold to or is financed by a factoring company: it gets no "
        "reminders from here and never goes to a collection agency.",
    )
    collection_hold = fields.Boolean(
        string="Keep out of collection",
        copy=False,
        tracking=True,
        help="Set when the invoice was taken off the draft collection list; untick to let it "
        "enter the list again.",
    )
    collection_moved_on = fields.Date(
        string="Moved to collection on",
        copy=False,
        readonly=True,
        help="Staff moved the invoice to the draft collection list by hand on this day.",
    )
    collection_fee_parent_id = fields.Many2one(
        "account.move",
        string="Reminder fee of",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="This invoice charges a reminder fee of that invoice.",
    )
    collection_fee_ids = fields.One2many(
        "account.move", "collection_fee_parent_id", string="Reminder fee invoices"
    )
    collection_backend_id = fields.Many2one(
        "collection.backend",
        string="Agency settlement of",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="This entry books a remittance of that collection agency.",
    )

    @api.depends("collection_case_ids.state", "collection_case_ids.case_number")
    def _compute_collection_case(self):
        for move in self:
            case = move.sudo().collection_case_ids[:1]
            move.collection_case_number = case.case_number
            move.collection_state = case.state

    # ------------------------------------------------------------------
    # What the daily runs look at
    # ------------------------------------------------------------------
    @api.model
    def _collection_overdue_domain(self, today):
        """Open customer invoices past their due date that may still be reminded or collected."""
        return Domain(
            [
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
                ("invoice_date_due", "<", today),
                ("amount_residual", ">", 0),
                ("collection_fee_parent_id", "=", False),
                ("collection_factoring", "=", False),
                ("collection_state", "=", False),
            ]
        )

    def _collection_policy_steps(self, cache=None):
        """{step record: core ReminderStep} of the policy that applies to this invoice."""
        self.ensure_one()
        cache = {} if cache is None else cache
        key = (self.company_id.id, self.commercial_partner_id.is_company)
        if key not in cache:
            policy = self.env["collection.reminder.policy"]._policy_for(
                self.company_id, self.commercial_partner_id
            )
            cache[key] = policy._core_steps() if policy else {}
        return cache[key]

    def _collection_sent_on(self, steps, states=("sent",)):
        """{core step: day sent} of this invoice's reminders in ``states``."""
        self.ensure_one()
        return {
            steps[reminder.step_id]: reminder.send_date
            for reminder in self.sudo().collection_reminder_ids
            if reminder.state in states and reminder.step_id in steps
        }

    def _collection_create_due_reminders(self, today):
        """Create the reminder each invoice is due for today (one step per invoice at most)."""
        cache = {}
        vals_list = []
        for move in self:
            steps = move._collection_policy_steps(cache)
            if not steps:
                continue
            taken = move._collection_sent_on(
                steps, ("pending", "sent", "manual", "error", "cancel")
            )
            step = rules.next_reminder_step(move.invoice_date_due, steps.values(), taken, today)
            if step is None:
                continue
            record = next(rec for rec, core in steps.items() if core is step)
            vals_list.append({"move_id": move.id, "step_id": record.id, "send_date": today})
        return self.env["collection.reminder"].sudo().create(vals_list)

    def _collection_eligibility(self, backend):
        """(eligible, translated reason) for handing this invoice to ``backend``'s agency."""
        self.ensure_one()
        eligible, reason = rules.check_eligibility(
            due_date=self.invoice_date_due,
            open_amount=self.amount_residual,
            transfer_to_collection=self.commercial_partner_id.transfer_to_collection,
            factoring=self.collection_factoring,
            start_date=backend.start_date or None,
        )
        return eligible, self._collection_reason_text(reason)

    def _collection_reason_text(self, reason):
        texts = {
            rules.ELIGIBLE: self.env._("The invoice may go to collection."),
            rules.NO_DUE_DATE: self.env._("The invoice has no due date."),
            rules.NOTHING_OPEN: self.env._("Nothing is left to pay on the invoice."),
            rules.CUSTOMER_EXCLUDED: self.env._(
                "The customer is not to be transferred to a collection agency."
            ),
            rules.FACTORING: self.env._("The invoice is financed by factoring."),
            rules.DUE_BEFORE_START: self.env._(
                "The invoice fell due before the agency's collection start date."
            ),
        }
        return texts.get(reason, reason)

    def _collection_entry_date(self, backend, cache=None):
        """The day this invoice enters the draft collection list, or None while reminders are
        still to be sent."""
        self.ensure_one()
        steps = self._collection_policy_steps(cache)
        return rules.reminded_entry_date(
            self.invoice_date_due,
            steps.values(),
            self._collection_sent_on(steps),
            delay_days=backend.delay_days,
            moved_by_hand_on=self.collection_moved_on or None,
        )

    def _collection_enter_draft_list(self, backend, today):
        """Put on ``backend``'s draft list every invoice whose entry day has come."""
        cache = {}
        to_enter = self.browse()
        for move in self:
            if move.collection_hold or move.collection_state:
                continue
            if not move._collection_eligibility(backend)[0]:
                continue
            entry = move._collection_entry_date(backend, cache)
            if entry is not None and today >= entry:
                to_enter |= move
        return self.env["collection.case"].sudo()._create_draft(to_enter)

    def _collection_open_lines(self, all_lines=False):
        """The receivable lines of these invoices (still open ones unless ``all_lines``)."""
        lines = self.filtered(lambda m: m.state == "posted").line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        )
        return lines if all_lines else lines.filtered(lambda line: not line.reconciled)

    # ------------------------------------------------------------------
    # Staff actions
    # ------------------------------------------------------------------
    def action_collection_move_to_list(self):
        """Move overdue invoices to the draft collection list now, whatever the reminders."""
        today = fields.Date.context_today(self)
        for move in self:
            if move.move_type != "out_invoice" or move.state != "posted":
                raise UserError(
                    self.env._("Only posted customer invoices can go to debt collection.")
                )
            if move.collection_state:
                raise UserError(
                    self.env._(
                        "Invoice %(invoice)s already has a collection case.", invoice=move.name
                    )
                )
            backend = self.env["collection.backend"]._creating_backend(move.company_id)
            if not backend:
                raise UserError(
                    self.env._(
                        "No collection agency of %(company)s creates new cases: configure one "
                        "first.",
                        company=move.company_id.display_name,
                    )
                )
            eligible, reason = move._collection_eligibility(backend)
            if not eligible:
                raise UserError(
                    self.env._(
                        "Invoice %(invoice)s cannot go to debt collection: %(reason)s",
                        invoice=move.name,
                        reason=reason,
                    )
                )
            if not move.invoice_date_due or today <= move.invoice_date_due:
                raise UserError(
                    self.env._("Invoice %(invoice)s is not overdue yet.", invoice=move.name)
                )
            move.write({"collection_moved_on": today, "collection_hold": False})
            self.env["collection.case"]._create_draft(move, entry="hand")
        return True

    def action_view_collection_case(self):
        self.ensure_one()
        case = self.collection_case_ids[:1]
        return {
            "type": "ir.actions.act_window",
            "res_model": "collection.case",
            "res_id": case.id,
            "view_mode": "form",
        }

    # ------------------------------------------------------------------
    # Credit notes of invoices at an agency
    # ------------------------------------------------------------------
    def _collection_credited_case(self):
        """The case of the invoice this credit note reverses (empty when none)."""
        self.ensure_one()
        if self.move_type != "out_refund" or not self.reversed_entry_id:
            return self.env["collection.case"]
        return self.reversed_entry_id.sudo().collection_case_ids[:1]

    def _collection_check_credit_notes(self):
        """Refuse a partial credit note of an invoice that is (or may be) at an agency."""
        for refund in self:
            case = refund._collection_credited_case()
            if not case or case.state not in AT_AGENCY_STATES:
                continue
            invoice = refund.reversed_entry_id
            if rules.check_full_credit(
                invoice.amount_total, refund.amount_total, currency=invoice.currency_id.name
            ):
                raise UserError(
                    self.env._(
                        "Invoice %(invoice)s is with a collection agency (case %(case)s): it can "
                        "only be credited in full (%(total)s), not by %(amount)s. Credit the "
                        "whole invoice, or ask the agency to return the case first.",
                        invoice=invoice.name,
                        case=case.case_number or case.external_key or "-",
                        total=invoice.currency_id.format(invoice.amount_total),
                        amount=refund.currency_id.format(refund.amount_total),
                    )
                )

    def button_draft(self):
        for move in self:
            if move.collection_state in ("approved", *AT_AGENCY_STATES):
                raise UserError(
                    self.env._(
                        "Invoice %(invoice)s is handed to a collection agency: it cannot be reset "
                        "to draft. Credit it in full, or ask the agency to return the case first.",
                        invoice=move.name,
                    )
                )
        return super().button_draft()

    def _membook_copy_known_overrides(self):
        """Our _post acts on credit notes only: an invoice a membership billing run copies
        needs none of it (the hook of the membership addon, which need not be installed)."""
        parent = getattr(super(), "_membook_copy_known_overrides", None)
        known = parent() if parent else {}
        known.setdefault(("account.move", "_post"), set()).add("collection_connector")
        return known

    def _post(self, soft=True):
        self.filtered(lambda m: m.move_type == "out_refund")._collection_check_credit_notes()
        posted = super()._post(soft=soft)
        for refund in posted.filtered(lambda m: m.move_type == "out_refund"):
            case = refund._collection_credited_case()
            invoice = refund.reversed_entry_id
            if case and not rules.check_full_credit(
                invoice.amount_total, refund.amount_total, currency=invoice.currency_id.name
            ):
                case._on_full_credit(refund)
        return posted
