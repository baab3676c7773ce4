# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models

MEMBER_SEQUENCE_CODE = "membook.member"


class IrSequence(models.Model):
    _inherit = "ir.sequence"

    @api.model
    def _membook_member_sequence(self, company):
        """The company's member-number sequence, created on first use (numbers start at 1)."""
        sequence = self.search(
            [("code", "=", MEMBER_SEQUENCE_CODE), ("company_id", "=", company.id)], limit=1
        )
        return sequence or self.create(
            {
                "name": self.env._("Member numbers (%s)", company.name),
                "code": MEMBER_SEQUENCE_CODE,
                "company_id": company.id,
                "padding": 6,
                "implementation": "no_gap",
            }
        )
