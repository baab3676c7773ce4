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

    def _create_membership_line(self):
        # A billing run creates the membership lines of a whole batch of invoices at once, after
        # creating them (see _membook_create_membership_lines): OCA membership looks for them
        # again after every write of a line while Odoo creates an invoice, and writes the state
        # of each new one apart.
        if self.env.context.get("membook_defer_membership_lines"):
            return
        super()._create_membership_line()

    def _membook_create_membership_lines(self):
        """Create the membership lines of these invoice lines at once, waiting for posting.

        The same as OCA membership does on creating invoice lines, in one create and one write
        for many invoices instead of one of each per line.
        """
        lines = self.with_context(membook_defer_membership_lines=False)
        lines._create_membership_line()
        lines.filtered(
            lambda line: line.move_id.move_type == "out_invoice" and line.product_id.membership
        ).membership_line_ids.write({"state": "waiting"})

    _membook_once_per_period = models.UniqueIndex(
        "(partner_id, product_id, membook_period_key) "
        "WHERE membook_period_key IS NOT NULL AND parent_state != 'cancel'",
        "This member has already been billed for this product and period.",
    )
