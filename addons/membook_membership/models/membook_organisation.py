# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from stdnum import fi, no

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from nordic_billing import allocation

BUSINESS_ID_VALIDATORS = {"FI": fi.ytunnus, "NO": no.orgnr}


class MembookOrganisation(models.Model):
    """A member organisation: a partner placed in the organisation hierarchy.

    The hierarchy (federation -> district -> club, any depth) lives on this model, not on the
    partner's own ``parent_id`` (which Odoo uses for company contacts). ``_parent_store`` keeps
    ancestor and descendant queries to one indexed prefix search.
    """

    _name = "membook.organisation"
    _description = "Member organisation"
    _inherits = {"res.partner": "partner_id"}
    _parent_name = "parent_organisation_id"
    _parent_store = True
    _order = "complete_name, id"
    _rec_name = "complete_name"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner", required=True, ondelete="restrict", index=True, string="Partner"
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
        string="Operator company",
        help="The company that collects the fees and settles them to this organisation.",
    )
    parent_organisation_id = fields.Many2one(
        "membook.organisation",
        string="Parent organisation",
        index=True,
        ondelete="restrict",
        check_company=True,
    )
    parent_path = fields.Char(index=True)
    child_organisation_ids = fields.One2many(
        "membook.organisation", "parent_organisation_id", string="Sub-organisations"
    )
    complete_name = fields.Char(compute="_compute_complete_name", store=True, recursive=True)
    level_id = fields.Many2one(
        "membook.organisation.level",
        string="Level",
        check_company=True,
        help="Federation, district, club...: split rules by level pay the organisation found at "
        "that level above the member's club.",
    )
    business_id = fields.Char(
        string="Business ID",
        help="Finnish Y-tunnus or Norwegian organisasjonsnummer; checked for those countries.",
    )
    settlement_bank_id = fields.Many2one(
        "res.partner.bank",
        string="Settlement account",
        domain="[('partner_id', '=', partner_id)]",
        help="Bank account the weekly settlement is paid to.",
    )
    member_ids = fields.One2many("res.partner", "member_organisation_id", string="Members")
    member_count = fields.Integer(
        compute="_compute_member_count",
        help="Members of this organisation and of every organisation below it.",
    )
    direct_member_count = fields.Integer(
        string="Own members",
        compute="_compute_member_count",
        help="Members whose organisation is this one.",
    )

    @api.depends("name", "parent_organisation_id.complete_name")
    def _compute_complete_name(self):
        for organisation in self:
            parent = organisation.parent_organisation_id
            organisation.complete_name = (
                f"{parent.complete_name} / {organisation.name}" if parent else organisation.name
            )

    def _compute_member_count(self):
        """Own members, and the members of the whole branch: one count per organisation of
        the branches, summed up the hierarchy by parent path."""
        stored = self.filtered("id")
        counts = dict(
            self.env["res.partner"]._read_group(
                [("member_organisation_id", "child_of", stored.ids)],
                ["member_organisation_id"],
                ["__count"],
            )
            if stored
            else []
        )
        totals = dict.fromkeys(stored.ids, 0)
        for organisation, count in counts.items():
            for ancestor_id in (int(part) for part in organisation.parent_path.split("/") if part):
                if ancestor_id in totals:
                    totals[ancestor_id] += count
        for organisation in self:
            organisation.direct_member_count = counts.get(organisation, 0)
            organisation.member_count = totals.get(organisation.id, 0)

    @api.constrains("parent_organisation_id")
    def _check_hierarchy(self):
        if self._has_cycle("parent_organisation_id"):
            raise ValidationError(
                self.env._("An organisation cannot be placed below itself or its descendants.")
            )

    @api.constrains("business_id", "country_id")
    def _check_business_id(self):
        for organisation in self.filtered("business_id"):
            validator = BUSINESS_ID_VALIDATORS.get(organisation.country_id.code or "")
            if validator and not validator.is_valid(organisation.business_id):
                raise ValidationError(
                    self.env._(
                        "%(id)s is not a valid business ID for %(country)s.",
                        id=organisation.business_id,
                        country=organisation.country_id.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            vals.setdefault("is_company", True)
        organisations = super().create(vals_list)
        for organisation in organisations:
            if not organisation.partner_id.company_id:
                organisation.partner_id.company_id = organisation.company_id
        return organisations

    def _get_ancestors(self):
        """This organisation and its ancestors, top of the hierarchy first."""
        self.ensure_one()
        ids = [int(part) for part in self.parent_path.split("/") if part]
        return self.browse(ids)

    def _membook_chain(self):
        """The core's view of this organisation and its ancestors, this one first."""
        self.ensure_one()
        chain = self._get_ancestors()[::-1]
        missing = chain.filtered(lambda organisation: not organisation.level_id)
        if missing:
            raise ValidationError(
                self.env._(
                    "Fee splits by level need a level on every organisation above the member: "
                    "%s has none.",
                    ", ".join(missing.mapped("name")),
                )
            )
        return [
            allocation.Organisation(key=organisation.id, level=str(organisation.level_id.id))
            for organisation in chain
        ]

    def action_settle_now(self):
        """Settle these organisations now, whatever the company's settlement day."""
        return self.env["membook.settlement"].action_settle_now(self)

    def action_view_members(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Members of %s", self.name),
            "res_model": "res.partner",
            "view_mode": "list,kanban,form",
            "domain": [("member_organisation_id", "child_of", self.ids)],
            "context": {"default_member_organisation_id": self.id},
        }
