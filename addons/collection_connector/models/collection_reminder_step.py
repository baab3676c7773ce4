# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from nordic_billing.collection.rules import ReminderStep


class CollectionReminderStep(models.Model):
    """One step of a reminder policy: sent ``delay_days`` after the invoice due date, giving
    ``payment_days`` to pay, optionally with a fee invoiced separately."""

    _name = "collection.reminder.step"
    _description = "Reminder step"
    _check_company_auto = True
    _order = "policy_id, sequence, delay_days, id"

    policy_id = fields.Many2one(
        "collection.reminder.policy", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="policy_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="policy_id.currency_id")
    sequence = fields.Integer(default=10)
    name = fields.Char(required=True, translate=True)
    kind = fields.Selection(
        [("reminder", "Reminder"), ("collection_notice", "Collection notice")],
        required=True,
        default="reminder",
        help="A collection notice (perintävaroitus, inkassovarsel) announces that the claim "
        "goes to a collection agency when it stays unpaid.",
    )
    delay_days = fields.Integer(
        string="Days after due date",
        required=True,
        default=14,
        help="The step is sent this many days after the invoice due date.",
    )
    payment_days = fields.Integer(
        string="Days to pay",
        required=True,
        default=14,
        help="Days the customer has to pay, counted from the day the step is sent.",
    )
    fee_product_id = fields.Many2one(
        "product.product",
        string="Fee product",
        check_company=True,
        domain="[('type', '=', 'service')]",
        help="Invoiced as a separate small invoice when the step is sent.",
    )
    fee_amount = fields.Monetary(
        string="Fee",
        compute="_compute_fee_amount",
        store=True,
        readonly=False,
        help="Reminder fee charged with this step, in the policy's currency.",
    )
    mail_template_id = fields.Many2one(
        "mail.template",
        string="E-mail template",
        domain="[('model', '=', 'collection.reminder')]",
        help="Leave empty for the standard reminder or collection-notice e-mail.",
    )
    enabled = fields.Boolean(default=True)

    @api.depends("fee_product_id")
    def _compute_fee_amount(self):
        for step in self:
            step.fee_amount = step.fee_product_id.lst_price if step.fee_product_id else 0.0

    @api.constrains("delay_days", "payment_days", "fee_amount", "fee_product_id")
    def _check_values(self):
        for step in self:
            if step.delay_days < 0 or step.payment_days < 0:
                raise ValidationError(
                    self.env._("Step '%(step)s': days must not be negative.", step=step.name)
                )
            if step.fee_amount and not step.fee_product_id:
                raise ValidationError(
                    self.env._(
                        "Step '%(step)s' charges a fee: choose the product it is invoiced with.",
                        step=step.name,
                    )
                )
        self.policy_id._check_fee_limits()

    @api.constrains("enabled", "kind")
    def _check_policy(self):
        self.policy_id._check_fee_limits()

    def _to_core(self):
        """The core's ReminderStep of this step."""
        self.ensure_one()
        try:
            return ReminderStep(
                name=self.name or "",
                delay_days=self.delay_days,
                payment_days=self.payment_days,
                fee=self.fee_amount if self.fee_product_id else 0,
                kind=self.kind,
                enabled=self.enabled,
            )
        except ValueError as exc:
            raise ValidationError(
                self.env._("Step '%(step)s': days must not be negative.", step=self.name)
            ) from exc

    def _mail_template(self):
        self.ensure_one()
        if self.mail_template_id:
            return self.mail_template_id
        if self.kind == "collection_notice":
            return self.env.ref("collection_connector.mail_template_collection_notice")
        return self.env.ref("collection_connector.mail_template_collection_reminder")
