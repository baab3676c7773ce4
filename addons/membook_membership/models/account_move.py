# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from decimal import Decimal

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL, format_amount, format_date

from nordic_billing import allocation
from nordic_billing.allocation import AllocationLine, from_cents, to_cents
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
        posted.filtered(lambda move: move.move_type == "out_invoice")._membook_record_splits()
        return posted

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

    @api.model
    def _membook_allocate_many(self, items):
        """Allocate amounts paid on invoices to the beneficiaries of their fees.

        ``items`` is ``[(invoice, amount Decimal, date, bank payment or None)]``, in payment
        order (an invoice may appear more than once). Each amount goes first over the invoice's
        fee lines, pro rata to what each still has due, then over each line's recorded split;
        lines without a split stay with the operator. What was allocated before counts as paid.
        Three reads and one insert for the whole batch, whatever its size (a bank day books tens
        of thousands). Returns the allocations created.
        """
        Allocation = self.env["membook.allocation"].sudo()
        invoice_ids = list({invoice.id for invoice, *_rest in items})
        if not invoice_ids:
            return Allocation
        for model in ("account.move", "account.move.line", "membook.fee.split", Allocation._name):
            self.env[model].flush_model()
        cr = self.env.cr
        before_line, before_target = {}, {}  # cents by line id / by (line id, beneficiary)
        cr.execute(
            "SELECT move_line_id, organisation_id, amount FROM membook_allocation"
            " WHERE invoice_id = ANY(%s)",
            [invoice_ids],
        )
        for line_id, organisation_id, amount in cr.fetchall():
            cents = _cents(amount)
            before_line[line_id] = before_line.get(line_id, 0) + cents
            key = (line_id, organisation_id or 0)
            before_target[key] = before_target.get(key, 0) + cents
        cr.execute(
            """
            SELECT line.id, line.move_id, line.product_id, line.price_total, move.company_id
              FROM account_move_line line
              JOIN account_move move ON move.id = line.move_id
             WHERE line.move_id = ANY(%s) AND line.display_type = 'product'
               AND line.price_total > 0
             ORDER BY line.id
            """,
            [invoice_ids],
        )
        fee_lines, company_of = {}, {}  # fee lines by invoice id; company by invoice id
        product_of = {}
        for line_id, move_id, product_id, price_total, company_id in cr.fetchall():
            fee_lines.setdefault(move_id, []).append(AllocationLine(line_id, _cents(price_total)))
            company_of[move_id] = company_id
            product_of[line_id] = product_id
        cr.execute(
            "SELECT move_line_id, organisation_id, amount FROM membook_fee_split"
            " WHERE move_line_id = ANY(%s) ORDER BY move_line_id, sequence, id",
            [list(product_of)],
        )
        splits = {}
        for line_id, organisation_id, amount in cr.fetchall():
            splits.setdefault(line_id, []).append(
                AllocationLine(organisation_id or 0, _cents(amount))
            )
        today = fields.Date.context_today(self)
        vals_list = []
        for invoice, amount, date, bank_payment in items:
            line_targets = fee_lines.get(invoice.id)
            if not line_targets or amount <= 0:
                continue
            paid_before = {t.beneficiary: before_line.get(t.beneficiary, 0) for t in line_targets}
            due = sum(t.cents for t in line_targets) - sum(paid_before.values())
            cents = min(to_cents(amount), max(due, 0))
            if not cents:
                continue
            line_cents = {t.beneficiary: t.cents for t in line_targets}
            for part in allocation.allocate(cents, line_targets, paid_before):
                line_id = part.beneficiary
                targets = splits.get(line_id) or [AllocationLine(0, line_cents[line_id])]
                before = {
                    t.beneficiary: before_target.get((line_id, t.beneficiary), 0) for t in targets
                }
                for share in allocation.allocate(part.cents, targets, before):
                    before_line[line_id] = before_line.get(line_id, 0) + share.cents
                    key = (line_id, share.beneficiary)
                    before_target[key] = before_target.get(key, 0) + share.cents
                    vals_list.append(
                        {
                            "company_id": company_of[invoice.id],
                            "date": date or today,
                            "organisation_id": share.beneficiary or None,
                            "product_id": product_of[line_id],
                            "amount": float(from_cents(share.cents)),
                            "invoice_id": invoice.id,
                            "move_line_id": line_id,
                            "bank_payment_id": bank_payment.id if bank_payment else None,
                        }
                    )
        return insert_rows(Allocation, vals_list)
