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
    membook_ledger_journal_id = fields.Many2one(
        "account.journal",
        string="Fee ledger journal",
        domain="[('type', '=', 'general'), ('company_id', '=', id)]",
        help="Where the organisations' shares, allocations and service fees are booked.",
    )
    membook_transit_account_id = fields.Many2one(
        "account.account",
        string="Shares billed for organisations",
        help="Transit account: the other organisations' shares of fees billed and not paid yet.",
    )
    membook_due_account_id = fields.Many2one(
        "account.account",
        string="Due to organisations",
        help="Liability: what the company owes each organisation (partner), from fees paid, "
        "until paid out.",
    )
    membook_service_fee_fixed = fields.Monetary(
        string="Service fee per payment",
        currency_field="currency_id",
        help="Deducted at settlement for each payment the settlement pays for.",
    )
    membook_service_fee_percent = fields.Float(
        string="Service fee (%)",
        digits=(5, 2),
        help="Deducted at settlement: this share of the amount settled.",
    )
    membook_service_fee_account_id = fields.Many2one(
        "account.account",
        string="Service fee income",
        help="The operator's income from the service fees deducted at settlement.",
    )
