# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    is_member = fields.Boolean(
        index=True, help="In the member register; the member number is given on registration."
    )
    member_number = fields.Char(copy=False, index="btree_not_null", readonly=True)
    member_organisation_id = fields.Many2one(
        "membook.organisation",
        string="Organisation",
        index="btree_not_null",
        help="The member's club: fee splits resolve from it and its ancestors.",
    )
    member_join_date = fields.Date(string="Joined", copy=False)
    member_leave_date = fields.Date(string="Left", copy=False)
    member_leave_reason = fields.Selection(
        [
            ("resigned", "Resigned"),
            ("unpaid", "Unpaid fees"),
            ("expelled", "Expelled"),
            ("deceased", "Deceased"),
            ("other", "Other"),
        ],
        string="Reason for leaving",
        copy=False,
    )
    organisation_ids = fields.One2many(
        "membook.organisation", "partner_id", string="Organisation records"
    )

    _member_number_uniq = models.UniqueIndex(
        "(company_id, member_number) WHERE member_number IS NOT NULL",
        "A member number is used only once per company.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("is_member"):
                # Member data belongs to the operator company: the partner rule then keeps it
                # from the other companies of the database.
                vals.setdefault("company_id", self.env.company.id)
                vals.setdefault("member_join_date", fields.Date.context_today(self))
        partners = super().create(vals_list)
        partners.filtered(lambda p: p.is_member and not p.member_number)._assign_member_number()
        return partners

    def write(self, vals):
        res = super().write(vals)
        if vals.get("is_member"):
            new = self.filtered(lambda p: not p.member_number)
            new.filtered(lambda p: not p.company_id).company_id = self.env.company
            new.filtered(
                lambda p: not p.member_join_date
            ).member_join_date = fields.Date.context_today(self)
            new._assign_member_number()
        return res

    def _assign_member_number(self):
        """Give each partner the next number of its company's member sequence."""
        for company, partners in self.grouped("company_id").items():
            sequence = self.env["ir.sequence"].sudo()._membook_member_sequence(company)
            for partner in partners:
                partner.member_number = sequence.next_by_id()
