# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import os

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import config

from nordic_billing.references import ODOO_REFERENCE_MODELS

# Reference kinds checked when no sales journal tells which one the company uses.
ALL_REFERENCE_KINDS = ("fi", "rf", "kid10", "kid11")
# The server configuration's option naming the folder that every bank file folder must be in:
# the scheduled action reads and moves files there, so it is the server's administrator, not a
# database user, who says where that may be.
FOLDER_ROOT_OPTION = "membook_bank_folder_root"


def membook_folder_problem(env, folder):
    """Why the scheduled action may not use ``folder`` (a translated message), or ``None``."""
    root = config.get(FOLDER_ROOT_OPTION)
    if not root:
        return env._(
            "Bank file folders are off on this server: its administrator sets the option %s "
            "in the server configuration to the folder they must be in.",
            FOLDER_ROOT_OPTION,
        )
    real_root = os.path.realpath(root)
    real = os.path.realpath(folder)
    if not os.path.isabs(folder) or os.path.commonpath([real_root, real]) != real_root:
        return env._(
            "The bank file folder %(folder)s is not inside %(root)s, the folder the server "
            "configuration allows.",
            folder=folder,
            root=root,
        )
    return None


class AccountJournal(models.Model):
    _inherit = "account.journal"

    membook_import_folder = fields.Char(
        string="Bank file folder",
        groups="base.group_system",
        help="Bank files dropped here are imported by the scheduled action; processed files are "
        "moved to its 'processed' subfolder, unreadable ones to 'failed'.",
    )

    membook_unidentified_account_id = fields.Many2one(
        "account.account",
        string="Unidentified payments account",
        check_company=True,
        domain="[('reconcile', '=', True), ('account_type', 'in', ('liability_current', "
        "'asset_current'))]",
        help="Bank file payments that no invoice can be found for are booked on this account, "
        "with the day's reference payments, until someone assigns them. Without one, each goes "
        "on a bank statement line of its own on the suspense account, which is much slower on "
        "large bank files.",
    )

    membook_bank_fee_account_id = fields.Many2one(
        "account.account",
        string="Bank charges account",
        check_company=True,
        domain="[('account_type', 'in', ('expense', 'expense_direct_cost'))]",
        help="Bank charges that come with a bank file payment (the fee of a returned direct "
        "debit) are booked here. Without one they wait on the suspense account.",
    )
    membook_pain001_version = fields.Selection(
        [
            ("pain.001.001.09", "pain.001.001.09"),
            ("pain.001.001.03", "pain.001.001.03 (retired by banks in November 2026)"),
        ],
        string="Payout file version",
        default="pain.001.001.09",
        required=True,
        help="The ISO 20022 credit transfer version of the payout files made for this journal. "
        "Keep pain.001.001.03 only for a bank that does not take .09 yet.",
    )

    @api.constrains("membook_unidentified_account_id")
    def _check_membook_unidentified_account(self):
        for journal in self:
            account = journal.membook_unidentified_account_id
            if account and (not account.reconcile or account == journal.suspense_account_id):
                raise ValidationError(
                    self.env._(
                        "The unidentified payments account must allow reconciliation and differ "
                        "from the suspense account."
                    )
                )

    @api.constrains("membook_import_folder", "type")
    def _check_membook_import_folder(self):
        for journal in self:
            folder = journal.sudo().membook_import_folder
            if not folder:
                continue
            if journal.type != "bank":
                raise ValidationError(self.env._("Only bank journals import bank files."))
            problem = membook_folder_problem(self.env, folder)
            if problem:
                raise ValidationError(problem)

    def _membook_reference_kinds(self):
        """The reference kinds the company's sales journals issue, for telling typos apart."""
        models_in_use = set(
            self.env["account.journal"]
            .search([("type", "=", "sale"), ("company_id", "=", self.company_id.id)])
            .mapped("invoice_reference_model")
        )
        kinds = {ODOO_REFERENCE_MODELS[m] for m in models_in_use if m in ODOO_REFERENCE_MODELS}
        if "rf" in kinds:
            kinds.add("fi")  # an RF reference wraps a national one: both are in use
        return tuple(sorted(kinds)) or ALL_REFERENCE_KINDS
