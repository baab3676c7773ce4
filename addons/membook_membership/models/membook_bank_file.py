# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import hashlib
import logging
import os
import shutil

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import format_datetime

from nordic_billing import bankfiles
from nordic_billing.payment import BankFileError

from .account_journal import membook_folder_problem
from .batching import wake_every_copy

_logger = logging.getLogger(__name__)


class MembookBankFile(models.Model):
    """One bank file, imported whole or not at all.

    Importing parses the file with the core readers (which validate it in full before returning
    anything), then stages one :class:`membook.bank.payment` per payment that is new on its bank
    account. A payment whose archive id the account already has is counted as a duplicate and not
    staged again, so importing a file twice, or two overlapping files, adds no money twice. The
    staged payments are booked and matched by a scheduled action.

    Failed direct debits (a debit the payer's bank refused) brought no money: they are counted
    and listed apart on the file, never staged as payments, and the invoices stay open.
    """

    _name = "membook.bank.file"
    _description = "Bank file"
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(string="File name", required=True, readonly=True)
    company_id = fields.Many2one(related="journal_id.company_id", store=True, index=True)
    journal_id = fields.Many2one(
        "account.journal",
        required=True,
        readonly=True,
        domain="[('type', '=', 'bank')]",
        check_company=True,
    )
    attachment_id = fields.Many2one("ir.attachment", readonly=True)
    file_hash = fields.Char(string="SHA-256", readonly=True, index=True)
    file_format = fields.Char(string="Format", readonly=True)
    same_file_id = fields.Many2one(
        "membook.bank.file",
        string="Imported before as",
        readonly=True,
        index="btree_not_null",
        help="The first import of this exact file (same SHA-256).",
    )
    import_note = fields.Char(
        string="Note",
        readonly=True,
        help="Why the file added nothing new, when it was this very file again.",
    )
    payment_ids = fields.One2many("membook.bank.payment", "file_id", string="Payments")
    payment_count = fields.Integer(
        readonly=True, help="Payments in the file (failed direct debits are counted apart)."
    )
    new_count = fields.Integer(string="New payments", readonly=True)
    duplicate_count = fields.Integer(
        string="Duplicates", readonly=True, help="Already imported from an earlier file."
    )
    amount_total = fields.Monetary(
        string="Total received", readonly=True, help="The incoming payments, corrections apart."
    )
    failed_debit_count = fields.Integer(
        string="Failed direct debits",
        readonly=True,
        help="Direct debits the payers' banks refused: no money came in for them.",
    )
    failed_debit_amount = fields.Monetary(string="Failed direct debits total", readonly=True)
    failed_debit_details = fields.Text(
        string="Failed direct debits list",
        readonly=True,
        help="Reference, payer, amount, return code and archive id of each failed debit.",
    )
    payout_count = fields.Integer(
        string="Payouts recognised", readonly=True, help="Settlements marked paid by this file."
    )
    currency_id = fields.Many2one(related="journal_id.company_id.currency_id")
    imported_by_id = fields.Many2one("res.users", readonly=True, default=lambda s: s.env.user)
    fast_path_note = fields.Char(
        string="Booked by Odoo",
        compute="_compute_fast_path_note",
        help="Empty while the payments are booked and reconciled set-based; otherwise why "
        "Odoo's own path booked (some of) them.",
    )

    @api.model
    def _import_file(self, journal, filename, data):
        """Import ``data`` into ``journal``; all or nothing. Returns the file record.

        Raises :class:`UserError` with the reader's message (line or element included) when the
        file cannot be read: nothing is written then.
        """
        journal.ensure_one()
        if journal.type != "bank":
            raise UserError(self.env._("Bank files go to a bank journal."))
        try:
            bank_file = bankfiles.read_bank_file(data)
        except BankFileError as error:
            raise UserError(
                self.env._("%(file)s cannot be imported: %(error)s", file=filename, error=error)
            ) from error
        payments = bank_file.payments
        failed = bank_file.failed_debits
        file_hash = hashlib.sha256(data).hexdigest()
        first = self.search(
            [("file_hash", "=", file_hash), ("same_file_id", "=", False)], order="id", limit=1
        )
        record = self.create(
            {
                "same_file_id": first.id,
                "name": filename,
                "journal_id": journal.id,
                "file_hash": file_hash,
                "file_format": bank_file.format,
                "payment_count": len(payments),
                "amount_total": float(sum((p.amount for p in payments if not p.is_correction), 0)),
                "failed_debit_count": len(failed),
                "failed_debit_amount": float(sum((debit.amount for debit in failed), 0)),
                "failed_debit_details": "\n".join(
                    self.env._(
                        "%(reference)s %(payer)s %(amount)s, return code %(code)s (archive id "
                        "%(archive_id)s, %(line)s)",
                        reference=debit.reference or "-",
                        payer=debit.payer_name or "-",
                        amount=debit.amount,
                        code=debit.return_code,
                        archive_id=debit.archive_id,
                        line=debit.source_line,
                    )
                    for debit in failed
                )
                or False,
            }
        )
        new, duplicates = self.env["membook.bank.payment"]._stage(journal, payments, record)
        paid = self.env["membook.settlement"]
        for transfer in bank_file.outgoing:
            paid |= paid._match_payout(
                transfer.reference, transfer.amount, transfer.booking_date, journal=journal
            )
        record.write(
            {
                "new_count": len(new),
                "duplicate_count": duplicates,
                "payout_count": len(paid),
                "import_note": record._same_file_note(first) if first else False,
            }
        )
        record.attachment_id = self.env["ir.attachment"].create(
            {
                "name": filename,
                "raw": data,
                "res_model": self._name,
                "res_id": record.id,
            }
        )
        if new:
            wake_every_copy(self.env, "membook_membership.ir_cron_membook_bank_process")
        return record

    def _same_file_note(self, first):
        """What to say of a file that is ``first`` imported again."""
        self.ensure_one()
        return self.env._(
            "This exact file (same SHA-256) was imported before: %(name)s into %(journal)s on "
            "%(date)s by %(user)s. Its payments are counted as duplicates.",
            name=first.name,
            journal=first.journal_id.display_name,
            date=format_datetime(self.env, first.create_date),
            user=first.imported_by_id.name or "-",
        )

    @api.model
    def _cron_import_folders(self):
        """Import the files dropped in each bank journal's folder, one committed file at a time."""
        journals = self.env["account.journal"].search([("membook_import_folder", "!=", False)])
        Cron = self.env["ir.cron"]
        for journal in journals:
            folder = journal.membook_import_folder
            problem = membook_folder_problem(self.env, folder)
            if problem:
                # Set before the server's root was (re)configured: left alone, and said so.
                _logger.warning("Bank file folder of %s not read: %s", journal.name, problem)
                continue
            if not os.path.isdir(folder):
                _logger.info("Bank file folder %s of %s does not exist", folder, journal.name)
                continue
            names = sorted(
                name
                for name in os.listdir(folder)
                if os.path.isfile(os.path.join(folder, name)) and not name.startswith(".")
            )
            for name in names:
                path = os.path.join(folder, name)
                with open(path, "rb") as handle:
                    data = handle.read()
                try:
                    record = self._import_file(journal, name, data)
                    target = "processed"
                except UserError as error:
                    self.env.cr.rollback()
                    _logger.info("Bank file %s not imported: %s", path, error)
                    journal.message_post(body=str(error))
                    record, target = None, "failed"
                # Commit before moving the file: a crash in between re-imports it as duplicates.
                Cron._commit_progress(1)
                os.makedirs(os.path.join(folder, target), exist_ok=True)
                shutil.move(path, os.path.join(folder, target, name))
                if record:
                    _logger.info(
                        "Imported %s: %s new payments, %s duplicates, %s failed direct debits",
                        name,
                        record.new_count,
                        record.duplicate_count,
                        record.failed_debit_count,
                    )

    @api.depends("payment_ids.fast_path_note")
    def _compute_fast_path_note(self):
        # Kept on the payments, which the worker that books them holds: copies of the
        # scheduled action writing the file itself would conflict.
        notes = dict(
            self.env["membook.bank.payment"]._read_group(
                [("file_id", "in", self.ids), ("fast_path_note", "!=", False)],
                ["file_id"],
                ["fast_path_note:max"],
            )
        )
        for record in self:
            record.fast_path_note = notes.get(record, False)

    def action_view_payments(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.name,
            "res_model": "membook.bank.payment",
            "view_mode": "list,form",
            "domain": [("file_id", "=", self.id)],
        }
