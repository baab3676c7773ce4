# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class MembookAllocation(models.Model):
    """Money received for a fee, owed to one organisation (or kept by the operator).

    Created when a payment is reconciled with a fee invoice: the amount applied to the invoice is
    split over its fee lines, then over each line's recorded split, pro rata to what is still due
    (see :func:`nordic_billing.allocation.allocate`). A reversal adds the same lines negated.
    Weekly settlements collect the unsettled allocations of each organisation.
    """

    _name = "membook.allocation"
    _description = "Fee allocation"
    _order = "date desc, id desc"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(required=True, index=True)
    organisation_id = fields.Many2one(
        "membook.organisation",
        index="btree_not_null",
        ondelete="restrict",
        check_company=True,
        help="Empty: the operator company keeps it.",
    )
    product_id = fields.Many2one("product.product", index=True)
    amount = fields.Monetary(required=True)
    invoice_id = fields.Many2one("account.move", index=True, ondelete="restrict")
    move_line_id = fields.Many2one("account.move.line", string="Fee line", index=True)
    partner_id = fields.Many2one(related="invoice_id.partner_id", string="Member")
    bank_payment_id = fields.Many2one("membook.bank.payment", index="btree_not_null")
    settlement_id = fields.Many2one(
        "membook.settlement", index="btree_not_null", ondelete="set null", copy=False
    )
    reversed_id = fields.Many2one("membook.allocation", string="Reverses", readonly=True)

    def _reverse(self, bank_payment):
        """Add the negated allocations for a reversed payment."""
        date = bank_payment.payment_date or bank_payment.booking_date
        return self.create(
            [
                {
                    "company_id": allocation.company_id.id,
                    "date": date or allocation.date,
                    "organisation_id": allocation.organisation_id.id,
                    "product_id": allocation.product_id.id,
                    "amount": -allocation.amount,
                    "invoice_id": allocation.invoice_id.id,
                    "move_line_id": allocation.move_line_id.id,
                    "bank_payment_id": bank_payment.id,
                    "reversed_id": allocation.id,
                }
                for allocation in self
            ]
        )
