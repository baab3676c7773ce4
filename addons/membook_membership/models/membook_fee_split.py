# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class MembookFeeSplit(models.Model):
    """What one beneficiary receives of an invoiced fee once it is paid in full.

    Recorded when the invoice is posted, from the product's split rules and the member's
    organisation at that time, so that later changes to rules or organisations do not change
    what was billed. Payments are allocated pro rata over these targets.
    """

    _name = "membook.fee.split"
    _description = "Fee split of an invoice line"
    _order = "move_line_id, sequence, id"

    move_line_id = fields.Many2one(
        "account.move.line", required=True, ondelete="cascade", index=True
    )
    move_id = fields.Many2one(related="move_line_id.move_id", store=True, index=True)
    company_id = fields.Many2one(related="move_line_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="move_line_id.currency_id")
    product_id = fields.Many2one(related="move_line_id.product_id", store=True)
    sequence = fields.Integer()
    organisation_id = fields.Many2one(
        "membook.organisation",
        index="btree_not_null",
        ondelete="restrict",
        help="Empty: the share stays with the operator company.",
    )
    amount = fields.Monetary(required=True)
    shares_move_id = fields.Many2one(
        "account.move",
        string="Booked in",
        index="btree_not_null",
        readonly=True,
        copy=False,
        help="The entry that moved this share to the shares billed for organisations.",
    )
