# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

CHANNELS = [
    ("email", "E-mail"),
    ("paper", "Paper"),
    ("einvoice", "E-invoice"),
    ("consumer_einvoice", "Consumer e-invoice"),
    ("direct_payment", "Direct payment"),
]


class ResPartner(models.Model):
    _inherit = "res.partner"

    procountor_invoice_channel = fields.Selection(
        CHANNELS,
        string="Invoicing channel",
        help="How Procountor delivers this customer's invoices. E-invoice orders made in the "
        "customer's bank reach Procountor and come back here with the channel sync.",
    )
    procountor_einvoice_address = fields.Char(
        string="E-invoice address", help="OVT code of a company, IBAN-style address of a consumer."
    )
    procountor_einvoice_operator = fields.Char(
        string="E-invoice operator", help="Operator (intermediator) code or the bank's BIC."
    )
    procountor_customer_number = fields.Char(
        string="Procountor customer number",
        compute="_compute_procountor_customer_number",
        store=True,
        readonly=False,
        index="btree_not_null",
        copy=False,
        help="Must equal the customer number in Procountor's register: the channel sync finds "
        "the customer by it. The member number unless set otherwise.",
    )

    @api.depends("member_number")
    def _compute_procountor_customer_number(self):
        for partner in self:
            if not partner.procountor_customer_number:
                partner.procountor_customer_number = partner.member_number
