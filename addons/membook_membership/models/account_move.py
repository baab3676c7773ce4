# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from decimal import Decimal

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL, format_amount, format_date

from nordic_billing.allocation import from_cents
from nordic_billing.money import cents_of, to_decimal
from nordic_billing.references import normalise_for_matching

from .batching import insert_rows

CENT = Decimal("0.01")


# Cents of an Odoo float amount (the name the bank day's reconciliation imports).
_cents = cents_of


class FeeLineAmountMismatch(Exception):
    """Odoo's subtotal of an invoice line differs from the amount booked on it."""


class AccountMove(models.Model):
    _inherit = "account.move"

    membook_billing_run_id = fields.Many2one(
        "membook.billing.run", string="Billing run", index="btree_not_null", copy=False
    )
    membook_split_ids = fields.One2many("membook.fee.split", "move_id", string="Fee split")
    membook_allocation_count = fields.Integer(
        string="Allocations", compute="_compute_membook_allocation_count"
    )
    membook_reference_key = fields.Char(
        string="Reference key",
        compute="_compute_membook_reference_key",
        store=True,
        index="btree_not_null",
        help="The payment reference as bank payments are matched: no spaces or leading zeros, an "
        "RF reference around a Finnish one reduced to the Finnish one.",
    )

    # What the fee invoice e-mail shows, in the language it is rendered in (see
    # mail_allowed_qweb_expressions).
    membook_mail_amount = fields.Char(
        string="E-mail amount", compute="_compute_membook_mail_values"
    )
    membook_mail_due = fields.Char(string="E-mail due date", compute="_compute_membook_mail_values")
    membook_mail_pay_link = fields.Html(
        string="E-mail payment link", compute="_compute_membook_mail_values", sanitize=False
    )

    @api.depends("partner_id", "date", "state", "move_type", "amount_residual", "invoice_date_due")
    @api.depends_context("input_full_display_name", "membook_invoice_label")
    def _compute_display_name(self):
        """With ``membook_invoice_label`` in the context (the assign dialog's invoice picker),
        a posted invoice reads "number · member · open amount · due date"."""
        super()._compute_display_name()
        if not self.env.context.get("membook_invoice_label"):
            return
        for move in self:
            if not move.is_invoice(include_receipts=True) or move.state != "posted":
                continue
            parts = [
                move.name,
                move.partner_id.name,
                format_amount(self.env, move.amount_residual, move.currency_id),
                format_date(self.env, move.invoice_date_due) if move.invoice_date_due else "",
            ]
            move.display_name = " · ".join(part for part in parts if part)

    # Odoo computes payment_reference at posting without declared dependencies, so a field
    # depending on it alone is never recomputed then: depend on what posting changes too.
    @api.depends("payment_reference", "move_type", "state", "name")
    def _compute_membook_reference_key(self):
        for move in self:
            move.membook_reference_key = (
                normalise_for_matching(move.payment_reference or "") or False
                if move.move_type == "out_invoice"
                else False
            )

    def _compute_membook_allocation_count(self):
        Allocation = self.env["membook.allocation"].sudo()
        for move in self:
            move_id = move._origin.id  # none yet for an invoice being made in a form
            move.membook_allocation_count = move_id and Allocation.search_count(
                ["|", ("invoice_id", "=", move_id), ("counterpart_move_id", "=", move_id)]
            )

    def action_view_membook_allocations(self):
        """The allocations of this fee document, or of the fees this entry paid."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Allocations"),
            "res_model": "membook.allocation",
            "view_mode": "list,pivot",
            "domain": ["|", ("invoice_id", "=", self.id), ("counterpart_move_id", "=", self.id)],
            "context": {"create": False},
        }

    @api.depends_context("lang")
    @api.depends("amount_total", "currency_id", "invoice_date_due", "access_token")
    def _compute_membook_mail_values(self):
        for move in self:
            move.membook_mail_amount = format_amount(self.env, move.amount_total, move.currency_id)
            move.membook_mail_due = format_date(self.env, move.invoice_date_due)
            move.membook_mail_pay_link = Markup(
                '<a href="%s" style="background-color: #2E6F95; padding: 8px 16px; color: #fff;'
                ' border-radius: 4px; text-decoration: none;">%s</a>'
            ) % (move.get_base_url() + move.get_portal_url(), self.env._("View and pay online"))

    def mail_allowed_qweb_expressions(self):
        # The placeholders of the fee invoice e-mail: plain values, which Odoo fills in without
        # evaluating the body as code for every invoice (_render_template_qweb_regex).
        return (
            *super().mail_allowed_qweb_expressions(),
            "object.payment_reference",
            "object.membook_mail_amount",
            "object.membook_mail_due",
            "object.membook_mail_pay_link",
        )

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        # Credit notes too: refunding one takes its shares back as it splits them.
        posted.filtered(
            lambda move: move.move_type in ("out_invoice", "out_refund")
        )._membook_record_splits()
        return posted

    def button_draft(self):
        # The shares of a fee invoice taken back to draft leave the transit account now: its
        # lines, and their splits, may change before it is posted again.
        booked = self.filtered(
            lambda move: move.state == "posted" and move.move_type in ("out_invoice", "out_refund")
        )
        res = super().button_draft()
        Booking = self.env["membook.ledger.booking"]
        for company, moves in booked.grouped("company_id").items():
            if Booking._ready(company):
                Booking._book_shares(company, moves)
        return res

    def _membook_mark_sent(self):
        """Mark these invoices sent, as Odoo does on sending them, in one statement.

        Written through the ORM, each invoice goes through Odoo's resynchronisation of its
        lines, which costs more than rendering its e-mail; the ORM still recomputes whatever
        depends on the flag.
        """
        self.flush_recordset(["is_move_sent"])
        self.env.cr.execute(
            SQL(
                "UPDATE account_move SET is_move_sent = TRUE, write_uid = %s, write_date = %s"
                " WHERE id = ANY(%s)",
                self.env.uid,
                self.env.cr.now(),
                self.ids,
            )
        )
        self.invalidate_recordset(["is_move_sent", "write_uid", "write_date"])
        self.modified(["is_move_sent"])

    def _membook_check_fee_line_amounts(self):
        """Raise FeeLineAmountMismatch unless every untaxed product line of these customer
        invoices books its subtotal (in the company currency too, when it is the invoice's).

        Odoo keeps the amounts given on creating an untaxed invoice line: the billing run gives
        them to save Odoo writing every line again, and checks them here against Odoo's own
        subtotal.
        """
        for line in self.filtered(lambda m: m.move_type == "out_invoice").invoice_line_ids:
            if line.display_type != "product" or line.tax_ids:
                continue
            if line.currency_id.compare_amounts(line.amount_currency, -line.price_subtotal) or (
                line.currency_id == line.company_currency_id
                and line.company_currency_id.compare_amounts(line.balance, line.amount_currency)
            ):
                raise FeeLineAmountMismatch(line.move_id.display_name)

    def _membook_record_splits(self):
        """Record the split of every fee line that has split rules and no split yet.

        Runs as superuser: the rules and the hierarchy are configuration that whoever posts an
        invoice (an accountant, the billing cron) applies but need not be able to read.
        """
        lines = self.sudo().invoice_line_ids.filtered(
            lambda line: line.product_id.membook_split_rule_ids and not line.membook_split_ids
        )
        if not lines:
            return
        levels = self.env["product.template"].sudo()._membook_levels()
        # The members of one club share their split: resolve it once per fee, club and amount.
        splits = {}
        vals_list = []
        for line in lines:
            key = (
                line.product_id.product_tmpl_id,
                line.partner_id.member_organisation_id,
                to_decimal(line.price_total),
            )
            if key not in splits:
                splits[key] = key[0]._membook_resolve_split(key[1], key[2], levels)
            parts = splits[key]
            vals_list += [
                {
                    "move_line_id": line.id,
                    "move_id": line.move_id.id,
                    "company_id": line.company_id.id,
                    "product_id": line.product_id.id,
                    "sequence": index,
                    "organisation_id": organisation.id,
                    "amount": float(from_cents(cents)),
                }
                for index, (organisation, cents) in enumerate(parts)
            ]
        # Plain rows nothing depends on as they are created: one COPY for the whole batch (a
        # billing run records three a member).
        insert_rows(self.env["membook.fee.split"].sudo(), vals_list)
        lines.invalidate_recordset(["membook_split_ids"])
        self.invalidate_recordset(["membook_split_ids"])
