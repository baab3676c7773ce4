# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from nordic_billing import allocation
from nordic_billing.money import to_decimal


class ProductTemplate(models.Model):
    _inherit = "product.template"

    membook_split_basis = fields.Selection(
        [("fixed", "Fixed amounts"), ("percent", "Percentages")],
        string="Split basis",
        default="fixed",
        required=True,
        help="Fixed amounts must add up to the sales price; percentages to 100.",
    )
    membook_split_rule_ids = fields.One2many(
        "membook.split.rule", "product_tmpl_id", string="Fee split", copy=True
    )

    @api.constrains("membook_split_rule_ids", "membook_split_basis", "list_price")
    def _check_membook_split(self):
        for template in self.filtered("membook_split_rule_ids"):
            problems = template._membook_rule_set().problems(
                to_decimal(template.list_price), template._membook_levels()
            )
            if problems:
                raise ValidationError(
                    self.env._(
                        "The fee split of %(product)s is not usable: %(problems)s",
                        product=template.display_name,
                        problems=" ".join(problems),
                    )
                )

    def _membook_levels(self):
        """Hierarchy level keys from the bottom (club) to the top, as the core expects them."""
        levels = self.env["membook.organisation.level"].search([], order="sequence desc, id desc")
        return tuple(str(level.id) for level in levels)

    def _membook_rule_set(self):
        self.ensure_one()
        rules = tuple(
            allocation.SplitRule(
                target=str(rule.level_id.id)
                if rule.target_type == "level"
                else rule.organisation_id.id,
                value=to_decimal(rule.value),
                per=rule.target_type,
                label=(
                    rule.level_id if rule.target_type == "level" else rule.organisation_id
                ).display_name,
            )
            for rule in self.membook_split_rule_ids
        )
        return allocation.RuleSet(basis=self.membook_split_basis, rules=rules)

    def _membook_resolve_split(self, organisation, amount, levels=None):
        """Cents per beneficiary of ``amount`` for a member of ``organisation``.

        Returns ``[(organisation record or empty for the operator company, cents)]``. ``amount``
        is the invoiced amount of the fee; when it differs from the price (a discount), fixed
        shares are scaled to it by largest remainder. ``levels`` (from :meth:`_membook_levels`)
        saves its search when many fees are split at once.
        """
        self.ensure_one()
        levels = levels or self._membook_levels()
        chain = organisation._membook_chain() if organisation else []
        price = to_decimal(self.list_price) if self.membook_split_basis == "fixed" else amount
        try:
            targets = allocation.resolve_targets(
                self._membook_rule_set(), chain, price, operator=0, levels=levels
            )
        except allocation.AllocationError as error:
            raise ValidationError(
                self.env._(
                    "Cannot split %(product)s: %(error)s", product=self.display_name, error=error
                )
            ) from error
        cents = [line.cents for line in targets]
        wanted = allocation.to_cents(amount)
        if sum(cents) != wanted:
            cents = allocation.split_cents(wanted, cents)
        Organisation = self.env["membook.organisation"]
        return [
            (Organisation.browse(line.beneficiary or ()), part)
            for line, part in zip(targets, cents, strict=True)
        ]
