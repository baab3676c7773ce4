# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    membook_split_ids = fields.One2many("membook.fee.split", "move_line_id", string="Fee split")
    membook_period_key = fields.Char(
        string="Billing period",
        copy=False,
        help="Set by billing runs: a member is billed once per product and period.",
    )

    _membook_once_per_period = models.UniqueIndex(
        "(partner_id, product_id, membook_period_key) "
        "WHERE membook_period_key IS NOT NULL AND parent_state != 'cancel'",
        "This member has already been billed for this product and period.",
    )
