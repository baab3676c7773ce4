# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ProcountorProductMapping(models.Model):
    """Where a fee product is booked in an organisation's Procountor: income account + dimensions.

    A mapping without organisation is the product's default for every organisation the
    connection books; a mapping for an organisation overrides it for that organisation.
    """

    _name = "procountor.product.mapping"
    _description = "Procountor product mapping"
    _check_company_auto = True
    _order = "backend_id, product_id, organisation_id, id"

    backend_id = fields.Many2one(
        "procountor.backend",
        string="Connection",
        required=True,
        ondelete="cascade",
        index=True,
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    product_id = fields.Many2one(
        "product.product",
        string="Fee product",
        required=True,
        index=True,
        check_company=True,
        domain="[('membership', '=', True)]",
    )
    organisation_id = fields.Many2one(
        "membook.organisation",
        string="Organisation",
        check_company=True,
        index="btree_not_null",
        help="Empty: the default for every organisation without a mapping of its own.",
    )
    account_id = fields.Many2one(
        "procountor.account",
        string="Income account",
        required=True,
        ondelete="restrict",
        domain="[('backend_id', '=', backend_id)]",
    )
    dimension_item_ids = fields.Many2many(
        "procountor.dimension.item",
        string="Dimension items",
        domain="[('backend_id', '=', backend_id)]",
        help="At most one item per dimension, e.g. a cost centre and a project.",
    )
    description = fields.Char(
        string="Voucher text", help="Text of the voucher row; the product name when empty."
    )
    active = fields.Boolean(default=True)

    _product_organisation_uniq = models.UniqueIndex(
        "(backend_id, product_id, COALESCE(organisation_id, 0)) WHERE active",
        "A product has one mapping per connection and organisation (and one default).",
    )

    @api.depends("product_id", "organisation_id")
    def _compute_display_name(self):
        for mapping in self:
            scope = mapping.organisation_id.display_name or self.env._("default")
            mapping.display_name = f"{mapping.product_id.display_name or ''} ({scope})".strip()

    @api.constrains("account_id", "dimension_item_ids", "backend_id", "active")
    def _check_usable(self):
        for mapping in self.filtered("active"):
            mapping.account_id._check_usable(mapping.backend_id)
            items = mapping.with_context(active_test=False).dimension_item_ids
            if items.backend_id - mapping.backend_id:
                raise ValidationError(
                    self.env._(
                        "The dimension items of %s must come from its own Procountor connection.",
                        mapping.display_name,
                    )
                )
            problems = items._procountor_problems()
            if problems:
                raise ValidationError("\n".join(problems))
            dimensions = items.dimension_id
            if len(dimensions) != len(items):
                raise ValidationError(
                    self.env._(
                        "%s has two items of one dimension: a row is booked on one item per "
                        "dimension.",
                        mapping.display_name,
                    )
                )

    def _procountor_problems(self):
        """Why this mapping cannot be booked now (the chart may have changed since)."""
        self.ensure_one()
        items = self.with_context(active_test=False).dimension_item_ids
        return self.account_id._procountor_problems() + items._procountor_problems()
