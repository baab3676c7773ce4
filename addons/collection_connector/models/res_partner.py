# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models

from nordic_billing.collection import Debtor


class ResPartner(models.Model):
    _inherit = "res.partner"

    transfer_to_collection = fields.Boolean(
        string="Transfer to collection agency",
        default=True,
        help="Untick to keep this customer's overdue invoices away from collection agencies. "
        "Reminders are still sent.",
    )

    def _prepare_collection_debtor(self):
        """The core's :class:`Debtor` for this invoice address: name and identity number of
        the commercial entity, the address of this contact when it has one."""
        self.ensure_one()
        partner = self.commercial_partner_id
        address = self if self.street or self.street2 else partner
        return Debtor(
            type="company" if partner.is_company else "person",
            name=partner.name or "",
            id_number=(partner.company_registry or partner.vat or "") if partner.is_company else "",
            address_lines=tuple(filter(None, [address.street, address.street2])),
            zip=address.zip or "",
            city=address.city or "",
            country=address.country_id.code or "",
            email=self.email or partner.email or "",
            phone=self.phone or partner.phone or "",
        )
