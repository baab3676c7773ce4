# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from nordic_billing.collection.rules import reminder_step_problems

DEBTOR_SCOPES = {"all": ("person", "company"), "person": ("person",), "company": ("company",)}


class CollectionReminderPolicy(models.Model):
    """The reminder steps a company sends before an invoice goes to collection.

    One active policy per company and kind of customer (consumers, businesses or all): the
    most specific one applies. Its steps are checked against the reminder-fee rules of its
    country (Finland: 5 EUR for consumers, 12 EUR for businesses; Norway: 35 NOK, at most two).
    """

    _name = "collection.reminder.policy"
    _description = "Reminder policy"
    _check_company_auto = True
    _order = "company_id, sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    debtor_scope = fields.Selection(
        [("all", "All customers"), ("person", "Consumers"), ("company", "Businesses")],
        string="Applies to",
        required=True,
        default="all",
        help="Consumers are customers that are not companies. A policy for consumers or "
        "businesses wins over one for all customers.",
    )
    country_id = fields.Many2one(
        "res.country",
        string="Rules of",
        default=lambda self: self.env.company.country_id,
        help="The reminder-fee rules of this country apply to the steps.",
    )
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        default=lambda self: self.env.company.currency_id,
        help="Currency of the reminder fees.",
    )
    step_ids = fields.One2many("collection.reminder.step", "policy_id", string="Steps")

    _scope_uniq = models.UniqueIndex(
        "(company_id, debtor_scope) WHERE active",
        "A company has one active reminder policy per kind of customer.",
    )

    @api.constrains("step_ids", "country_id", "currency_id", "debtor_scope")
    def _check_fee_limits(self):
        for policy in self:
            messages = policy._fee_limit_problems()
            if messages:
                raise ValidationError(
                    self.env._(
                        "The reminder steps of %(policy)s break the rules:\n%(problems)s",
                        policy=policy.display_name,
                        problems="\n".join(messages),
                    )
                )

    def _core_steps(self):
        """{step record: the core's ReminderStep} of every step, in order."""
        self.ensure_one()
        return {step: step._to_core() for step in self.step_ids.sorted()}

    def _fee_limit_problems(self):
        """Translated messages of every way the steps break the fee rules."""
        self.ensure_one()
        steps = list(self._core_steps().values())
        seen = []
        for debtor_type in DEBTOR_SCOPES[self.debtor_scope]:
            for problem in reminder_step_problems(
                steps,
                country=self.country_id.code or "",
                debtor_type=debtor_type,
                currency=self.currency_id.name,
            ):
                message = self._problem_message(problem)
                if message not in seen:
                    seen.append(message)
        return seen

    def _problem_message(self, problem):
        values = dict(problem.values)
        values["label"] = self._rules_label(
            values.get("country"), values.get("debtor_type"), values.get("label", "")
        )
        if problem.code == "negative_fee":
            return self.env._("Step '%(step)s': the reminder fee must not be negative.", **values)
        if problem.code == "currency":
            return self.env._(
                "The %(label)s reminder fee limit is in %(rule_currency)s; fees in %(currency)s "
                "cannot be checked against it.",
                **values,
            )
        if problem.code == "fee_above_limit":
            return self.env._(
                "Step '%(step)s': the reminder fee %(fee)s is above the %(label)s limit of "
                "%(limit)s per reminder.",
                **values,
            )
        if problem.code == "fee_too_early":
            return self.env._(
                "Step '%(step)s' is sent on day %(day)s after the due date: a %(label)s reminder "
                "may carry a fee only from day %(first_day)s.",
                **values,
            )
        if problem.code == "too_many_fees":
            return self.env._(
                "%(count)s steps charge a reminder fee; the %(label)s rules allow at most "
                "%(max_count)s.",
                **values,
            )
        if problem.code == "notice_too_short":
            return self.env._(
                "Step '%(step)s': a %(label)s collection notice must give at least %(min_days)s "
                "days to pay, not %(days)s.",
                **values,
            )
        return problem.text

    def _rules_label(self, country, debtor_type, default):
        if country == "FI" and debtor_type == "person":
            return self.env._("Finnish consumer")
        if country == "FI":
            return self.env._("Finnish business")
        if country == "NO":
            return self.env._("Norwegian")
        return default

    @api.model
    def _policy_for(self, company, partner):
        """The policy that applies to ``partner``'s invoices in ``company`` (may be empty)."""
        scope = "company" if partner.commercial_partner_id.is_company else "person"
        policies = self.search(
            [("company_id", "=", company.id), ("debtor_scope", "in", (scope, "all"))]
        )
        return policies.filtered(lambda p: p.debtor_scope == scope)[:1] or policies[:1]
