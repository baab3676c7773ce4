# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class MembookPaymentAssign(models.TransientModel):
    """Place an unmatched payment on the invoices a person recognises."""

    _name = "membook.payment.assign"
    _description = "Assign an unmatched payment"

    bank_payment_id = fields.Many2one("membook.bank.payment", required=True, readonly=True)
    amount = fields.Monetary(related="bank_payment_id.amount")
    currency_id = fields.Many2one(related="bank_payment_id.currency_id")
    payer_name = fields.Char(related="bank_payment_id.payer_name")
    reference = fields.Char(related="bank_payment_id.reference")
    suggestion_text = fields.Text(related="bank_payment_id.suggestion_text")
    company_id = fields.Many2one(related="bank_payment_id.company_id")
    invoice_ids = fields.Many2many(
        "account.move",
        string="Invoices",
        required=True,
        domain="[('company_id', '=', company_id), ('move_type', '=', 'out_invoice'), "
        "('state', '=', 'posted'), ('payment_state', 'in', ('not_paid', 'partial'))]",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        payment = self.env["membook.bank.payment"].browse(values.get("bank_payment_id"))
        if payment and "invoice_ids" in fields_list:
            suggestions = payment._suggestions(limit=1)
            if suggestions:
                values["invoice_ids"] = [(6, 0, suggestions[0][0].ids)]
        return values

    def action_assign(self):
        self.ensure_one()
        self.bank_payment_id._assign(self.invoice_ids)
        return {"type": "ir.actions.act_window_close"}
