# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from decimal import Decimal

from odoo import fields, models

from nordic_billing.allocation import from_cents


class AccountMove(models.Model):
    _inherit = "account.move"

    membook_billing_run_id = fields.Many2one(
        "membook.billing.run", string="Billing run", index="btree_not_null", copy=False
    )
    membook_split_ids = fields.One2many("membook.fee.split", "move_id", string="Fee split")

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
                Decimal(str(line.price_total)).quantize(Decimal("0.01")),
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
