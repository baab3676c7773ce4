# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.addons.membook_membership.tests.common import MembookBillingCommon
from odoo.addons.payment_paytrail.tests.common import SANDBOX_TIMEOUT, PaytrailCommon

__all__ = ["SANDBOX_TIMEOUT", "MembookPaytrailCommon"]


class MembookPaytrailCommon(PaytrailCommon, MembookBillingCommon):
    """The membership set-up (hierarchy, a 60 EUR fee, members) with Paytrail on the sandbox."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.finland = cls.env.ref("base.fi")
        cls.member_a.country_id = cls.finland

    @classmethod
    def _fee_invoice(cls, member, amount=60.0):
        invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": member.id,
                "invoice_date": "2026-01-15",
                "invoice_line_ids": [
                    (0, 0, {"product_id": cls.fee.id, "price_unit": amount, "tax_ids": []})
                ],
            }
        )
        invoice.action_post()
        return invoice
