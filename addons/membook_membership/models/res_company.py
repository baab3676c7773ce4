# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models

WEEKDAYS = [
    ("0", "Monday"),
    ("1", "Tuesday"),
    ("2", "Wednesday"),
    ("3", "Thursday"),
    ("4", "Friday"),
    ("5", "Saturday"),
    ("6", "Sunday"),
]


class ResCompany(models.Model):
    _inherit = "res.company"

    membook_settlement_enabled = fields.Boolean(
        string="Settle to organisations",
        default=True,
        help="Off when the organisations are paid directly and the company holds no client "
        "funds: allocations are still recorded, but no settlement is made.",
    )
    membook_settlement_weekday = fields.Selection(
        WEEKDAYS, string="Settlement day", default="0", required=True
    )
    membook_payout_journal_id = fields.Many2one(
        "account.journal",
        string="Client-funds bank journal",
        domain="[('type', '=', 'bank'), ('company_id', '=', id)]",
        help="Member payments arrive on it and settlements are paid from it.",
    )
