# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models

# Where the local Procountor sandbox listens (``nordic-billing sandbox procountor --port 8900``;
# docker-compose.yml runs it next to Odoo), with the credentials it accepts.
SANDBOX_URL = "http://127.0.0.1:8900/api"
XMLID = "membook_membership.demo_procountor_backend"


class MembookDemo(models.AbstractModel):
    _inherit = "membook.demo"

    def _make_connections(self, company):
        if not self.env.ref(XMLID, raise_if_not_found=False):
            backend = self.env["procountor.backend"].create(
                {
                    "name": "Procountor (local sandbox)",
                    "company_id": company.id,
                    "environment": "custom",
                    "custom_url": SANDBOX_URL,
                    "client_id": "sandbox-client",
                    "client_secret": "sandbox-secret",
                    "api_key": "sandbox-api-key",
                }
            )
            self._xmlid("procountor_backend", backend)
        return super()._make_connections(company)
