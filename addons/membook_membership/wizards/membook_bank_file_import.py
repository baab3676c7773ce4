# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64

from odoo import fields, models


class MembookBankFileImport(models.TransientModel):
    _name = "membook.bank.file.import"
    _description = "Import a bank file"

    journal_id = fields.Many2one(
        "account.journal",
        required=True,
        domain="[('type', '=', 'bank'), ('company_id', 'in', allowed_company_ids)]",
        default=lambda self: self.env.company.membook_payout_journal_id,
    )
    data_file = fields.Binary(string="Bank file", required=True)
    filename = fields.Char()

    def action_import(self):
        self.ensure_one()
        data = base64.b64decode(self.with_context(bin_size=False).data_file or b"")
        record = self.env["membook.bank.file"]._import_file(
            self.journal_id, self.filename or "bank-file", data
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "membook.bank.file",
            "res_id": record.id,
            "view_mode": "form",
        }
