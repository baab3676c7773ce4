# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    collection_factoring_in_use = fields.Boolean(
        string="Factoring in use",
        help="The company sells or pledges its invoices to a factoring company. Debt collection "
        "through an agency cannot be combined with it.",
    )

    @api.constrains("collection_factoring_in_use")
    def _check_collection_factoring(self):
        companies = self.filtered("collection_factoring_in_use")
        if not companies:
            return
        backends = (
            self.env["collection.backend"]
            .sudo()
            .search([("company_id", "in", companies.ids)], limit=1)
        )
        if backends:
            raise ValidationError(
                self.env._(
                    "%(company)s hands overdue invoices to the collection agency %(agency)s: "
                    "archive the agency before you turn on factoring. Debt collection cannot be "
                    "combined with a factoring integration.",
                    company=backends.company_id.display_name,
                    agency=backends.name,
                )
            )
