# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    member_organisation_id = fields.Many2one(
        "membook.organisation",
        string="Organisation",
        index="btree_not_null",
        help="The member's club: fee splits resolve from it and its ancestors.",
    )
    organisation_ids = fields.One2many(
        "membook.organisation", "partner_id", string="Organisation records"
    )
