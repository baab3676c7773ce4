# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from decimal import Decimal

from odoo import api, fields, models

from nordic_billing import allocation
from nordic_billing.allocation import AllocationLine, from_cents, to_cents
from nordic_billing.references import normalise_for_matching

CENT = Decimal("0.01")


def _cents(value):
    """Cents of an Odoo float amount."""
    return to_cents(Decimal(str(value)).quantize(CENT))


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

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted.filtered(lambda move: move.move_type == "out_invoice")._membook_record_splits()
        return posted

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
        levels = self.env["product.template"]._membook_levels()
        # The members of one club share their split: resolve it once per fee, club and amount.
        splits = {}
        vals_list = []
        for line in lines:
            key = (
                line.product_id.product_tmpl_id,
                line.partner_id.member_organisation_id,
                Decimal(str(line.price_total)).quantize(CENT),
            )
            if key not in splits:
                splits[key] = key[0]._membook_resolve_split(key[1], key[2], levels)
            parts = splits[key]
            vals_list += [
                {
                    "move_line_id": line.id,
                    "sequence": index,
                    "organisation_id": organisation.id,
                    "amount": float(from_cents(cents)),
                }
                for index, (organisation, cents) in enumerate(parts)
            ]
        self.env["membook.fee.split"].sudo().create(vals_list)

    @api.model
    def _membook_allocate_many(self, items):
        """Allocate amounts paid on invoices to the beneficiaries of their fees.

        ``items`` is ``[(invoice, amount Decimal, date, bank payment or None)]``, in payment
        order (an invoice may appear more than once). Each amount goes first over the invoice's
        fee lines, pro rata to what each still has due, then over each line's recorded split;
        lines without a split stay with the operator. What was allocated before counts as paid.
        One search and one create for the whole batch. Returns the allocations created.
        """
        Allocation = self.env["membook.allocation"].sudo()
        invoices = self.browse({invoice.id for invoice, *_rest in items})
        before_line, before_target = {}, {}  # cents by line id / by (line id, beneficiary)
        for old in Allocation.search([("invoice_id", "in", invoices.ids)]):
            cents = _cents(old.amount)
            line_id = old.move_line_id.id
            before_line[line_id] = before_line.get(line_id, 0) + cents
            key = (line_id, old.organisation_id.id or 0)
            before_target[key] = before_target.get(key, 0) + cents
        vals_list = []
        for invoice, amount, date, bank_payment in items:
            lines = invoice.invoice_line_ids.filtered(
                lambda line: line.display_type == "product" and line.price_total > 0
            )
            if not lines or amount <= 0:
                continue
            line_targets = [AllocationLine(line.id, _cents(line.price_total)) for line in lines]
            paid_before = {t.beneficiary: before_line.get(t.beneficiary, 0) for t in line_targets}
            due = sum(t.cents for t in line_targets) - sum(paid_before.values())
            cents = min(to_cents(amount), max(due, 0))
            if not cents:
                continue
            line_cents = {t.beneficiary: t.cents for t in line_targets}
            for part in allocation.allocate(cents, line_targets, paid_before):
                line = lines.browse(part.beneficiary)
                targets = [
                    AllocationLine(split.organisation_id.id or 0, _cents(split.amount))
                    for split in line.sudo().membook_split_ids
                ] or [AllocationLine(0, line_cents[line.id])]
                before = {
                    t.beneficiary: before_target.get((line.id, t.beneficiary), 0) for t in targets
                }
                for share in allocation.allocate(part.cents, targets, before):
                    before_line[line.id] = before_line.get(line.id, 0) + share.cents
                    key = (line.id, share.beneficiary)
                    before_target[key] = before_target.get(key, 0) + share.cents
                    vals_list.append(
                        {
                            "company_id": invoice.company_id.id,
                            "date": date or fields.Date.context_today(self),
                            "organisation_id": share.beneficiary or False,
                            "product_id": line.product_id.id,
                            "amount": float(from_cents(share.cents)),
                            "invoice_id": invoice.id,
                            "move_line_id": line.id,
                            "bank_payment_id": bank_payment.id if bank_payment else False,
                        }
                    )
        return Allocation.create(vals_list)
