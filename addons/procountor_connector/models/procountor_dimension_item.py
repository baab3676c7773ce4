# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

INACTIVE_STATUS = "P"  # Procountor's status of a closed (passive) dimension item


class ProcountorDimensionItem(models.Model):
    """An item of a Procountor dimension (e.g. cost centre SEURA), as last synced.

    Items with status P in Procountor, or gone from it, are kept inactive: nothing new may
    book on them.
    """

    _name = "procountor.dimension.item"
    _description = "Procountor dimension item"
    _order = "dimension_id, code, id"
    _rec_names_search = ["code", "name", "dimension_id"]

    dimension_id = fields.Many2one(
        "procountor.dimension", required=True, ondelete="cascade", index=True
    )
    backend_id = fields.Many2one(
        related="dimension_id.backend_id", store=True, index=True, string="Connection"
    )
    company_id = fields.Many2one(related="dimension_id.company_id", store=True, index=True)
    remote_id = fields.Integer(string="Procountor id", required=True, readonly=True)
    code = fields.Char(readonly=True)
    name = fields.Char(string="Description", readonly=True)
    active = fields.Boolean(
        default=True, readonly=True, help="Inactive (status P) in Procountor, or gone from it."
    )

    _dimension_remote_uniq = models.UniqueIndex(
        "(dimension_id, remote_id)", "A dimension item appears once per dimension."
    )

    @api.depends("code", "name", "dimension_id.name")
    def _compute_display_name(self):
        for item in self:
            item.display_name = f"{item.dimension_id.name}: {item.code or item.name}"

    def _procountor_problems(self):
        return [
            self.env._(
                "Dimension item %s is inactive in Procountor: choose another one or activate it "
                "there and sync again.",
                item.display_name,
            )
            for item in self
            if not item.active or not item.dimension_id.active
        ]

    @api.model
    def _procountor_sync(self, dimension, remote_items):
        existing = {
            item.remote_id: item
            for item in self.with_context(active_test=False).search(
                [("dimension_id", "=", dimension.id)]
            )
        }
        seen = set()
        to_create = []
        for remote in remote_items:
            if remote.get("id") is None:
                continue
            remote_id = int(remote["id"])
            seen.add(remote_id)
            vals = {
                "code": remote.get("codeName") or str(remote_id),
                "name": remote.get("description") or "",
                "active": remote.get("status") != INACTIVE_STATUS,
            }
            item = existing.get(remote_id)
            if item is None:
                to_create.append({"dimension_id": dimension.id, "remote_id": remote_id, **vals})
            elif (item.code, item.name, item.active) != (
                vals["code"],
                vals["name"],
                vals["active"],
            ):
                item.write(vals)
        self.browse(
            i.id for remote_id, i in existing.items() if remote_id not in seen and i.active
        ).write({"active": False})
        return self.create(to_create)
