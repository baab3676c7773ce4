# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    membook_organisation_ids = fields.Many2many(
        "membook.organisation",
        "membook_organisation_res_users_rel",
        "user_id",
        "organisation_id",
        string="Treasurer of",
        help="An organisation treasurer sees and edits these organisations and the ones below "
        "them: their members, the members' invoices, the payments assigned to them, their "
        "allocations, settlements and payouts.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        users = super().create(vals_list)
        if any(vals.get("membook_organisation_ids") for vals in vals_list):
            self.env.registry.clear_cache()  # the record rules read the user's organisations
        return users

    def write(self, vals):
        result = super().write(vals)
        if "membook_organisation_ids" in vals:
            self.env.registry.clear_cache()  # the record rules read the user's organisations
        return result
