# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.tools import SQL

from nordic_billing.allocation import from_cents

from .membook_allocation import LedgerItem, _cents


class AccountPartialReconcile(models.Model):
    """Reconciliation feeds the allocation ledger (``membook.allocation``): one mechanism for
    every way a fee is paid, refunded or unpaid again."""

    _inherit = "account.partial.reconcile"

    membook_allocation_ids = fields.One2many(
        "membook.allocation", "partial_id", string="Allocations", readonly=True
    )

    @api.model_create_multi
    def create(self, vals_list):
        partials = super().create(vals_list)
        partials._membook_allocate()
        return partials

    @api.ondelete(at_uninstall=False)
    def _unlink_membook_reverse_allocations(self):
        self._membook_unallocate()

    def _membook_allocate(self):
        """Allocate what these new partials apply to fee documents' receivable items.

        The debit side of a partial on a customer invoice's receivable item pays that invoice;
        the credit side on a customer credit note's receivable item is credit of that note
        used or refunded, which takes the shares back (negative rows). A credit note
        reconciled with the invoice it reverses moves no money: nothing is allocated. Also
        called by the bank day after writing its partials in SQL (see ``KNOWN_OVERRIDES``).
        One query for all the partials, one more for their bank payments.
        """
        if not self:
            return self.env["membook.allocation"]
        self.flush_recordset()
        self.env["account.move.line"].flush_model(["move_id", "account_id"])
        self.env["account.move"].flush_model(["move_type", "reversed_entry_id"])
        rows = self.env.execute_query_dict(
            SQL(
                """
            SELECT part.id, part.amount, part.max_date,
                   debit.id AS debit_line, debit.move_id AS debit_move,
                   debit_move.move_type AS debit_type,
                   debit_account.account_type = 'asset_receivable' AS debit_receivable,
                   credit.id AS credit_line, credit.move_id AS credit_move,
                   credit_move.move_type AS credit_type,
                   credit_account.account_type = 'asset_receivable' AS credit_receivable,
                   credit_move.reversed_entry_id AS credit_reverses
              FROM account_partial_reconcile part
              JOIN account_move_line debit ON debit.id = part.debit_move_id
              JOIN account_move debit_move ON debit_move.id = debit.move_id
              JOIN account_account debit_account ON debit_account.id = debit.account_id
              JOIN account_move_line credit ON credit.id = part.credit_move_id
              JOIN account_move credit_move ON credit_move.id = credit.move_id
              JOIN account_account credit_account ON credit_account.id = credit.account_id
             WHERE part.id = ANY(%s)
             ORDER BY part.id
            """,
                self.ids,
            )
        )
        relevant = []
        for row in rows:
            pays = row["debit_type"] == "out_invoice" and row["debit_receivable"]
            refunds = row["credit_type"] == "out_refund" and row["credit_receivable"]
            if pays and refunds and row["credit_reverses"] == row["debit_move"]:
                continue  # a credit note cancelling (what is open of) its own invoice
            if pays or refunds:
                relevant.append((row, pays, refunds))
        if not relevant:
            return self.env["membook.allocation"]
        BankPayment = self.env["membook.bank.payment"]
        BankPayment.flush_model(["counterpart_line_id", "payment_date", "booking_date"])
        bank_payments = {
            line_id: (payment_id, date)
            for payment_id, line_id, date in self.env.execute_query(
                SQL(
                    "SELECT id, counterpart_line_id, COALESCE(payment_date, booking_date)"
                    " FROM membook_bank_payment WHERE counterpart_line_id = ANY(%s)",
                    [row["credit_line"] for row, pays, _refunds in relevant if pays],
                )
            )
        }
        items = []
        for row, pays, refunds in relevant:
            amount = from_cents(_cents(row["amount"]))
            if pays:
                payment_id, date = bank_payments.get(row["credit_line"], (None, None))
                items.append(
                    LedgerItem(
                        document_id=row["debit_move"],
                        amount=amount,
                        date=date or row["max_date"],
                        sign=1,
                        partial_id=row["id"],
                        counterpart_move_id=row["credit_move"],
                        bank_payment_id=payment_id,
                    )
                )
            if refunds:
                items.append(
                    LedgerItem(
                        document_id=row["credit_move"],
                        amount=amount,
                        date=row["max_date"],
                        sign=-1,
                        partial_id=row["id"],
                        counterpart_move_id=row["debit_move"],
                    )
                )
        return self.env["membook.allocation"]._allocate_many(items)

    def _membook_unallocate(self):
        """Reverse the allocations of these partials, which are being removed (an unreconcile,
        a payment reset or cancelled, a bank correction): new negated rows, dated by the
        ``membook_allocation_date`` context key when the cause has a date of its own."""
        allocations = (
            self.env["membook.allocation"]
            .sudo()
            .search([("partial_id", "in", self.ids), ("reversed_id", "=", False)])
        )
        if allocations:
            allocations._reverse(self.env.context.get("membook_allocation_date"))
