# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    @api.model
    def _membook_reconcile_known_overrides(self):
        """Our override of creating partials (marking the cases whose payments changed) is done
        by the membership addon's set-based reconciliation after it writes its partials, by
        calling _collection_mark_cases on them (the hook of the membership addon, which need
        not be installed)."""
        parent = getattr(super(), "_membook_reconcile_known_overrides", None)
        known = parent() if parent else {}
        key = ("account.partial.reconcile", "create")
        known[key] = {**known.get(key, {}), "collection_connector": "_collection_mark_cases"}
        return known
