# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import split_every

_logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 200


class CollectionReminder(models.Model):
    """One reminder step sent (or to send) for one overdue invoice.

    The daily run creates at most one reminder per invoice and step and sends it: the e-mail of
    the step and, when the step charges one, the reminder fee as a separate small invoice (the
    posted invoice cannot take another line, and the agency wants fees apart from principal).
    A reminder that could not be e-mailed waits for staff, who send it another way and mark it
    sent; the invoice does not go to collection before every enabled step was sent.
    """

    _name = "collection.reminder"
    _description = "Payment reminder"
    _check_company_auto = True
    _order = "send_date desc, id desc"

    move_id = fields.Many2one(
        "account.move",
        string="Invoice",
        required=True,
        ondelete="cascade",
        index=True,
        check_company=True,
    )
    step_id = fields.Many2one(
        "collection.reminder.step", required=True, ondelete="restrict", index=True
    )
    policy_id = fields.Many2one(related="step_id.policy_id")
    kind = fields.Selection(related="step_id.kind")
    company_id = fields.Many2one(related="move_id.company_id", store=True, index=True)
    partner_id = fields.Many2one(
        related="move_id.commercial_partner_id", string="Customer", store=True, index=True
    )
    invoice_date_due = fields.Date(related="move_id.invoice_date_due", string="Invoice due")
    currency_id = fields.Many2one(related="move_id.currency_id")
    amount_residual = fields.Monetary(related="move_id.amount_residual", string="Open now")
    amount_due = fields.Monetary(string="Amount due", readonly=True, help="Open when sent.")
    send_date = fields.Date(required=True, readonly=True, index=True)
    pay_by = fields.Date(string="Pay by", readonly=True)
    fee_currency_id = fields.Many2one("res.currency", readonly=True)
    fee_amount = fields.Monetary(currency_field="fee_currency_id", readonly=True)
    fee_move_id = fields.Many2one(
        "account.move", string="Fee invoice", readonly=True, index="btree_not_null"
    )
    state = fields.Selection(
        [
            ("pending", "To send"),
            ("sent", "Sent"),
            ("manual", "To send by hand"),
            ("error", "Failed"),
            ("cancel", "Cancelled"),
        ],
        default="pending",
        required=True,
        index=True,
        readonly=True,
    )
    error = fields.Text(readonly=True)

    _move_step_uniq = models.Constraint(
        "UNIQUE(move_id, step_id)", "An invoice gets each reminder step once."
    )

    @api.depends("step_id", "move_id")
    def _compute_display_name(self):
        for reminder in self:
            reminder.display_name = f"{reminder.step_id.name} - {reminder.move_id.name}"

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------
    def _send(self):
        """Send pending reminders: fee invoice, then e-mail. Returns how many were handled.

        Each reminder is done in its own savepoint; a failure marks only that one.
        """
        today = fields.Date.context_today(self)
        for reminder in self:
            if reminder.state != "pending":
                continue
            try:
                with self.env.cr.savepoint():
                    reminder._send_one(today)
            except UserError as exc:
                reminder.write({"state": "error", "error": str(exc)})
        return len(self)

    def _send_one(self, today):
        self.ensure_one()
        move = self.move_id
        if move.payment_state not in ("not_paid", "partial") or move.collection_case_ids:
            self.write(
                {
                    "state": "cancel",
                    "error": self.env._("The invoice was paid or handed over before sending."),
                }
            )
            return
        step = self.step_id
        self.write(
            {
                "send_date": today,
                "pay_by": today + timedelta(days=step.payment_days),
                "amount_due": move.amount_residual,
            }
        )
        if step.fee_product_id and step.fee_amount > 0 and not self.fee_move_id:
            self.fee_move_id = self._create_fee_invoice()
        partner = move.partner_id
        if not partner.email:
            self.write(
                {
                    "state": "manual",
                    "error": self.env._(
                        "%(partner)s has no e-mail address: send the reminder by post and mark "
                        "it sent.",
                        partner=partner.display_name,
                    ),
                }
            )
            return
        step._mail_template().send_mail(self.id, email_layout_xmlid="mail.mail_notification_light")
        self.write({"state": "sent", "error": False})
        move._message_log(
            body=self.env._(
                "%(step)s sent, to be paid by %(date)s.",
                step=step.name,
                date=fields.Date.to_string(self.pay_by),
            )
        )

    def _prepare_fee_invoice_vals(self):
        self.ensure_one()
        move, step = self.move_id, self.step_id
        return {
            "move_type": "out_invoice",
            "company_id": move.company_id.id,
            "partner_id": move.partner_id.id,
            "journal_id": move.journal_id.id,
            "currency_id": step.currency_id.id,
            "invoice_date": self.send_date,
            "invoice_date_due": self.pay_by,
            "invoice_origin": move.name,
            "collection_fee_parent_id": move.id,
            "invoice_line_ids": [
                Command.create(
                    {
                        "product_id": step.fee_product_id.id,
                        "name": self.env._(
                            "%(step)s fee for invoice %(invoice)s",
                            step=step.name,
                            invoice=move.name,
                        ),
                        "quantity": 1,
                        "price_unit": step.fee_amount,
                    }
                )
            ],
        }

    def _create_fee_invoice(self):
        self.ensure_one()
        fee = (
            self.env["account.move"]
            .with_company(self.company_id)
            .create(self._prepare_fee_invoice_vals())
        )
        fee.action_post()
        self.fee_currency_id = fee.currency_id
        self.fee_amount = fee.amount_total
        return fee

    # ------------------------------------------------------------------
    # Staff actions
    # ------------------------------------------------------------------
    def action_mark_sent(self):
        """Staff sent the reminder another way (e.g. by post): it counts as sent today."""
        today = fields.Date.context_today(self)
        for reminder in self.filtered(lambda r: r.state in ("manual", "error", "pending")):
            reminder.write(
                {
                    "state": "sent",
                    "error": False,
                    "send_date": today,
                    "pay_by": today + timedelta(days=reminder.step_id.payment_days),
                }
            )
        return True

    def action_retry(self):
        self.filtered(lambda r: r.state == "error").write({"state": "pending", "error": False})
        return True

    def action_move_to_collection(self):
        """Move the invoices of these reminders to the draft collection list now."""
        self.move_id.action_collection_move_to_list()
        return self.env["collection.case"]._action_open_draft_list()

    # ------------------------------------------------------------------
    # Daily run
    # ------------------------------------------------------------------
    @api.model
    def _batch_size(self):
        return int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("collection_connector.batch_size", DEFAULT_BATCH_SIZE)
        )

    @api.model
    def _cron_run(self):
        """Scheduled action: create the reminders due today, then send the pending ones.

        Committed batch by batch; safe to stop and to run again (a reminder exists once per
        invoice and step, and is sent in the transaction that marks it sent).
        """
        Cron = self.env["ir.cron"]
        Move = self.env["account.move"]
        today = fields.Date.context_today(self)
        batch_size = self._batch_size()
        companies = (
            self.env["collection.reminder.policy"]
            .search([("step_ids.enabled", "=", True)])
            .company_id
        )
        invoices = Move.search(
            Move._collection_overdue_domain(today)
            & fields.Domain("company_id", "in", companies.ids),
            order="id",
        )
        Cron._commit_progress(remaining=len(invoices))
        for ids in split_every(batch_size, invoices.ids):
            Move.browse(ids)._collection_create_due_reminders(today)
            if not Cron._commit_progress(len(ids)):
                return
        domain = fields.Domain("state", "=", "pending")
        Cron._commit_progress(remaining=self.search_count(domain))
        while True:
            reminders = Cron._lock_next_batch(self, domain, batch_size)
            if not reminders:
                break
            if not Cron._commit_progress(reminders._send()):
                return
