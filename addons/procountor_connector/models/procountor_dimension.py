# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class ProcountorDimension(models.Model):
    """A Procountor dimension (cost centres, projects...) with its items, as last synced."""

    _name = "procountor.dimension"
    _description = "Procountor dimension"
    _order = "backend_id, name, id"

    backend_id = fields.Many2one(
        "procountor.backend", required=True, ondelete="cascade", index=True, string="Connection"
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    remote_id = fields.Integer(string="Procountor id", required=True, readonly=True)
    name = fields.Char(required=True, readonly=True)
    active = fields.Boolean(default=True, readonly=True, help="No longer in Procountor.")
    item_ids = fields.One2many("procountor.dimension.item", "dimension_id", string="Items")

    _backend_remote_uniq = models.UniqueIndex(
        "(backend_id, remote_id)", "A dimension appears once per Procountor connection."
    )

    @api.model
    def _procountor_sync(self, backend, remote_dimensions):
        """Make the dimensions and items of ``backend`` what ``GET /dimensions`` answered."""
        existing = {
            dimension.remote_id: dimension
            for dimension in self.with_context(active_test=False).search(
                [("backend_id", "=", backend.id)]
            )
        }
        Item = self.env["procountor.dimension.item"]
        seen = set()
        for remote in remote_dimensions:
            if remote.get("id") is None:
                continue
            remote_id = int(remote["id"])
            seen.add(remote_id)
            vals = {"name": remote.get("name") or str(remote_id), "active": True}
            dimension = existing.get(remote_id)
            if dimension is None:
                dimension = self.create({"backend_id": backend.id, "remote_id": remote_id, **vals})
            elif (dimension.name, dimension.active) != (vals["name"], vals["active"]):
                dimension.write(vals)
            Item._procountor_sync(dimension, remote.get("items") or [])
        for remote_id, dimension in existing.items():
            if remote_id not in seen and dimension.active:
                dimension.write({"active": False})
                dimension.with_context(active_test=False).item_ids.write({"active": False})
