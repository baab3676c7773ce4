# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class MembookOverview(models.AbstractModel):
    _inherit = "membook.overview"

    @api.model
    def _membook_overview_queues(self):
        """The Procountor outbox on the treasurer's overview: what waits to be sent and what
        failed, for those who may read it."""
        cards = super()._membook_overview_queues()
        Exchange = self.env["procountor.exchange"]
        if Exchange.has_access("read"):
            cards.append(
                self._membook_overview_card(
                    "procountor_pending",
                    self.env._("Procountor: waiting to be sent"),
                    Exchange,
                    [("state", "in", ("new", "sending"))],
                    40,
                    "warning",
                )
            )
            cards.append(
                self._membook_overview_card(
                    "procountor_failed",
                    self.env._("Procountor: failed or outcome unknown"),
                    Exchange,
                    [("state", "in", ("error", "unknown"))],
                    41,
                    "danger",
                )
            )
        return cards
