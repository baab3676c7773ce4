# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

ENVIRONMENT_URLS = {
    "production": "https://api.procountor.com/api",
    "test": "https://pts-api.procountor.com/api",
}


class ProcountorBackend(models.Model):
    """Connection to one Procountor environment: per company, optionally per organisation.

    Credentials are readable by system administrators only and wiped when a database is
    neutralised (``data/neutralize.sql``), so a copied database never talks to production.
    """

    _name = "procountor.backend"
    _description = "Procountor connection"
    _check_company_auto = True
    _order = "company_id, organisation_id, id"

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    organisation_id = fields.Many2one(
        "membook.organisation",
        check_company=True,
        index="btree_not_null",
        help="Set when this organisation keeps its own books in Procountor; empty for the "
        "company's own Procountor.",
    )
    environment = fields.Selection(
        [("production", "Production"), ("test", "Partner test"), ("custom", "Custom URL")],
        required=True,
        default="test",
    )
    custom_url = fields.Char(string="Custom URL", help="E.g. a local sandbox for trials.")
    base_url = fields.Char(compute="_compute_base_url")
    client_id = fields.Char(groups="base.group_system")
    client_secret = fields.Char(groups="base.group_system")
    api_key = fields.Char(string="API key", groups="base.group_system")
    timeout = fields.Integer(default=30, help="Seconds to wait for one answer.")

    _organisation_uniq = models.UniqueIndex(
        "(company_id, COALESCE(organisation_id, 0)) WHERE active",
        "One active Procountor connection per company and organisation.",
    )

    @api.depends("environment", "custom_url")
    def _compute_base_url(self):
        for backend in self:
            if backend.environment == "custom":
                backend.base_url = (backend.custom_url or "").rstrip("/")
            else:
                backend.base_url = ENVIRONMENT_URLS[backend.environment]

    @api.constrains("environment", "custom_url")
    def _check_custom_url(self):
        for backend in self:
            if backend.environment == "custom" and not (backend.custom_url or "").startswith(
                ("http://", "https://")
            ):
                raise ValidationError(
                    self.env._("A custom Procountor URL must start with http:// or https://.")
                )
