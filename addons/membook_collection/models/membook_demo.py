# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

# Where the local collection agency sandbox listens (``nordic-billing sandbox agency --port
# 8901``; docker-compose.yml runs it next to Odoo).
SANDBOX_URL = "http://127.0.0.1:8901"
XMLID = "membook_membership.demo_collection_backend"


class MembookDemo(models.AbstractModel):
    _inherit = "membook.demo"

    def _make_connections(self, company):
        if not self.env.ref(XMLID, raise_if_not_found=False):
            backend = self.env["collection.backend"].create(
                {
                    "name": "Collection agency (local sandbox)",
                    "company_id": company.id,
                    "protocol": "generic_rest",
                    "url": SANDBOX_URL,
                    "api_key": "sandbox-key",
                }
            )
            self._xmlid("collection_backend", backend)
        return super()._make_connections(company)
