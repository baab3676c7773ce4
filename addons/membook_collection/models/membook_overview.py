# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class MembookOverview(models.AbstractModel):
    _inherit = "membook.overview"

    @api.model
    def _membook_overview_queues(self):
        """Debt collection on the treasurer's overview: the draft list to approve and the
        cases that failed, for those who may read them."""
        cards = super()._membook_overview_queues()
        Case = self.env["collection.case"]
        if Case.has_access("read"):
            cards.append(
                self._membook_overview_card(
                    "collection_draft",
                    self.env._("Draft collection list"),
                    Case,
                    [("state", "=", "draft")],
                    45,
                    "warning",
                )
            )
            cards.append(
                self._membook_overview_card(
                    "collection_failed",
                    self.env._("Collection cases failed or unknown"),
                    Case,
                    [("state", "in", ("error", "unknown"))],
                    46,
                    "danger",
                )
            )
        return cards
