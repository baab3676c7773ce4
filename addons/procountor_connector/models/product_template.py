# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from nordic_billing.vouchers import NO_VAT_HANDLING


class ProductTemplate(models.Model):
    _inherit = "product.template"

    procountor_vat_status = fields.Integer(
        string="Procountor VAT status",
        default=NO_VAT_HANDLING,
        help="VAT status code of the voucher and invoice rows in Procountor: 12, no VAT "
        "handling, is the usual for membership fees, which are outside VAT.",
    )
    procountor_vat_percent = fields.Float(
        string="Procountor VAT %",
        default=0.0,
        digits=(5, 2),
        help="VAT percent of the memo-voucher rows of this product (0 for membership fees).",
    )

    @api.constrains("procountor_vat_status", "procountor_vat_percent")
    def _check_procountor_vat(self):
        for template in self:
            if template.procountor_vat_status < 0 or not 0 <= template.procountor_vat_percent < 100:
                raise ValidationError(
                    self.env._(
                        "%s: the Procountor VAT status cannot be negative and the VAT percent "
                        "must be from 0 to 100.",
                        template.display_name,
                    )
                )
