# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class MembookOrganisationLevel(models.Model):
    """A level of the organisation hierarchy (federation, district, club...).

    Fee split rules may name a level: the share then goes to the member's organisation at that
    level, found among the member's club and its ancestors.
    """

    _name = "membook.organisation.level"
    _description = "Organisation level"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(help="Short code used in voucher texts and exports.")
    sequence = fields.Integer(
        default=10, help="Top of the hierarchy first: federation 10, district 20, club 30."
    )
    company_id = fields.Many2one("res.company", index=True)
    active = fields.Boolean(default=True)

    _code_company_uniq = models.UniqueIndex(
        "(code, COALESCE(company_id, 0)) WHERE code IS NOT NULL",
        "A level code must be unique per company.",
    )
