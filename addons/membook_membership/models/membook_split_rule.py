# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class MembookSplitRule(models.Model):
    """One share of a membership product's price: for a hierarchy level or a named organisation."""

    _name = "membook.split.rule"
    _description = "Fee split share"
    _order = "product_tmpl_id, sequence, id"

    product_tmpl_id = fields.Many2one(
        "product.template", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(default=10)
    target_type = fields.Selection(
        [("level", "Hierarchy level"), ("organisation", "Organisation")],
        required=True,
        default="level",
    )
    level_id = fields.Many2one("membook.organisation.level", ondelete="restrict")
    organisation_id = fields.Many2one("membook.organisation", ondelete="restrict")
    value = fields.Float(
        string="Share",
        digits=(16, 2),
        required=True,
        help="An amount in the product's currency, or a percentage, as the product's split "
        "basis says.",
    )

    @api.constrains("target_type", "level_id", "organisation_id")
    def _check_target(self):
        for rule in self:
            if rule.target_type == "level" and not rule.level_id:
                raise ValidationError(self.env._("A share by level needs the level."))
            if rule.target_type == "organisation" and not rule.organisation_id:
                raise ValidationError(self.env._("A share by organisation needs the organisation."))
