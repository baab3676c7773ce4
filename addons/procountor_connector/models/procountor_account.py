# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ProcountorAccount(models.Model):
    """A ledger account of a Procountor chart of accounts, as the last sync read it.

    Accounts that Procountor marks inactive, or that vanished from its chart, are kept inactive
    (archived) so that older mappings and vouchers still show them; nothing new may use them.
    """

    _name = "procountor.account"
    _description = "Procountor ledger account"
    _order = "backend_id, code"
    _rec_names_search = ["code", "name"]

    backend_id = fields.Many2one(
        "procountor.backend", required=True, ondelete="cascade", index=True, string="Connection"
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    code = fields.Char(required=True, readonly=True)
    name = fields.Char(required=True, readonly=True)
    active = fields.Boolean(
        default=True, readonly=True, help="Inactive in Procountor, or no longer in its chart."
    )

    _backend_code_uniq = models.UniqueIndex(
        "(backend_id, code)", "An account code appears once per Procountor connection."
    )

    @api.depends("code", "name")
    def _compute_display_name(self):
        for account in self:
            account.display_name = f"{account.code} {account.name}"

    def _procountor_problems(self):
        """Why these accounts cannot be booked on (empty list: they can)."""
        return [
            self.env._(
                "Account %s is inactive in Procountor: choose another one or activate it there "
                "and sync the chart again.",
                account.display_name,
            )
            for account in self
            if not account.active
        ]

    def _check_usable(self, backend):
        for account in self:
            if account.backend_id != backend:
                raise ValidationError(
                    self.env._(
                        "Account %(account)s belongs to another Procountor connection than "
                        "%(backend)s.",
                        account=account.display_name,
                        backend=backend.display_name,
                    )
                )
        problems = self._procountor_problems()
        if problems:
            raise ValidationError("\n".join(problems))

    @api.model
    def _procountor_sync(self, backend, remote_accounts):
        """Make the accounts of ``backend`` what ``GET /coa`` answered."""
        existing = {
            account.code: account
            for account in self.with_context(active_test=False).search(
                [("backend_id", "=", backend.id)]
            )
        }
        seen = set()
        to_create = []
        for remote in remote_accounts:
            code = str(remote.get("ledgerAccountCode") or "").strip()
            if not code or code in seen:
                continue
            seen.add(code)
            vals = {
                "name": remote.get("name") or code,
                "active": bool(remote.get("active", True)),
            }
            account = existing.get(code)
            if account is None:
                to_create.append({"backend_id": backend.id, "code": code, **vals})
            elif (account.name, account.active) != (vals["name"], vals["active"]):
                account.write(vals)
        gone = self.browse(a.id for code, a in existing.items() if code not in seen and a.active)
        gone.write({"active": False})
        return self.create(to_create)
