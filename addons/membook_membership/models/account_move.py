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

    def _membook_record_splits(self):
        """Record the split of every fee line that has split rules and no split yet.

        Runs as superuser: the rules and the hierarchy are configuration that whoever posts an
        invoice (an accountant, the billing cron) applies but need not be able to read.
        """
        lines = self.sudo().invoice_line_ids.filtered(
            lambda line: line.product_id.membook_split_rule_ids and not line.membook_split_ids
        )
        vals_list = []
        for line in lines:
            parts = line.product_id.product_tmpl_id._membook_resolve_split(
                line.partner_id.member_organisation_id,
                Decimal(str(line.price_total)).quantize(CENT),
            )
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

    def _membook_allocate(self, amount, date, bank_payment=None):
        """Allocate ``amount`` (Decimal) paid on this invoice to the beneficiaries of its fees.

        First over the fee lines, pro rata to what each still has due, then over each line's
        recorded split; lines without a split stay with the operator. Amounts already allocated
        for the invoice count as paid. Returns the allocations created.
        """
        self.ensure_one()
        lines = self.invoice_line_ids.filtered(
            lambda line: line.display_type == "product" and line.price_total > 0
        )
        if not lines or amount <= 0:
            return self.env["membook.allocation"]
        Allocation = self.env["membook.allocation"].sudo()
        previous = Allocation.search([("invoice_id", "=", self.id)])
        before_line, before_target = {}, {}
        for old in previous:
            cents = _cents(old.amount)
            before_line[old.move_line_id.id] = before_line.get(old.move_line_id.id, 0) + cents
            key = (old.move_line_id.id, old.organisation_id.id or 0)
            before_target[key] = before_target.get(key, 0) + cents
        line_targets = [
            AllocationLine(
                line.id, to_cents(Decimal(str(line.price_total)).quantize(Decimal("0.01")))
            )
            for line in lines
        ]
        due = sum(t.cents for t in line_targets) - sum(before_line.values())
        cents = min(to_cents(amount), max(due, 0))
        vals_list = []
        per_line = allocation.allocate(cents, line_targets, before_line)
        for part in per_line:
            line = lines.browse(part.beneficiary)
            targets = [
                AllocationLine(
                    split.organisation_id.id or 0,
                    to_cents(Decimal(str(split.amount)).quantize(Decimal("0.01"))),
                )
                for split in line.sudo().membook_split_ids
            ] or [AllocationLine(0, line_targets[lines.ids.index(line.id)].cents)]
            before = {
                org: value for (line_id, org), value in before_target.items() if line_id == line.id
            }
            for share in allocation.allocate(part.cents, targets, before):
                vals_list.append(
                    {
                        "company_id": self.company_id.id,
                        "date": date or fields.Date.context_today(self),
                        "organisation_id": share.beneficiary or False,
                        "product_id": line.product_id.id,
                        "amount": float(from_cents(share.cents)),
                        "invoice_id": self.id,
                        "move_line_id": line.id,
                        "bank_payment_id": bank_payment.id if bank_payment else False,
                    }
                )
        return Allocation.create(vals_list)
