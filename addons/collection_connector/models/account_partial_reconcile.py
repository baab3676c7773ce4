# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    def _collection_mark_cases(self):
        """Tell the cases of the invoices these reconciliations touch that their payments
        changed; the scheduled action compares them with what the agency was told."""
        moves = (self.debit_move_id | self.credit_move_id).move_id
        cases = (
            self.env["collection.case"]
            .sudo()
            .search([("move_id", "in", moves.ids), ("state", "in", ("open", "paid"))])
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
