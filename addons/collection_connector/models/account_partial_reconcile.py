# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models
from odoo.tools import SQL


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    def _collection_mark_cases(self):
        """Tell the cases of the invoices these reconciliations touch that their payments
        changed; the scheduled action compares them with what the agency was told."""
        if not self:
            return
        # One query, not two reads per partial: a bank day reconciles thousands at once.
        self.flush_recordset(["debit_move_id", "credit_move_id"])
        self.env["account.move.line"].flush_model(["move_id"])
        move_ids = [
            move_id
            for (move_id,) in self.env.execute_query(
                SQL(
                    """
            SELECT DISTINCT line.move_id
              FROM account_partial_reconcile partial
              JOIN account_move_line line
                ON line.id IN (partial.debit_move_id, partial.credit_move_id)
             WHERE partial.id = ANY(%s)
            """,
                    list(self.ids),
                )
            )
        ]
        cases = (
            self.env["collection.case"]
            .sudo()
            .search([("move_id", "in", move_ids), ("state", "in", ("open", "paid"))])
        )
        if cases:
            cases.payments_dirty = True
            self.env["collection.case"]._trigger_send()

    @api.model_create_multi
    def create(self, vals_list):
        partials = super().create(vals_list)
        partials._collection_mark_cases()
        return partials

    @api.ondelete(at_uninstall=False)
    def _unlink_collection_mark_cases(self):
        self._collection_mark_cases()
