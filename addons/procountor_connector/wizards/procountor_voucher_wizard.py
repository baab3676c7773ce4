# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError

from nordic_billing import vouchers


class ProcountorVoucherWizard(models.TransientModel):
    """Build one week's memo vouchers now: preview the rows, then queue them for Procountor."""

    _name = "procountor.voucher.wizard"
    _description = "Build memo vouchers"
    _check_company_auto = True

    backend_id = fields.Many2one(
        "procountor.backend",
        string="Connection",
        required=True,
        domain="[('company_id', 'in', allowed_company_ids)]",
        default=lambda self: self.env["procountor.backend"]._procountor_for(self.env.company),
    )
    company_id = fields.Many2one(related="backend_id.company_id")
    day = fields.Date(
        string="Week of",
        required=True,
        default=lambda self: vouchers.previous_week(fields.Date.context_today(self))[3],
        help="Any day of the ISO week to book.",
    )
    date_from = fields.Date(compute="_compute_week")
    date_to = fields.Date(compute="_compute_week")
    period_key = fields.Char(string="Week", compute="_compute_week")
    previewed = fields.Boolean(readonly=True)
    line_ids = fields.One2many(
        "procountor.voucher.wizard.line", "wizard_id", string="Voucher rows", readonly=True
    )
    problems = fields.Text(readonly=True)
    existing_note = fields.Text(
        string="Booked already",
        readonly=True,
        help="Memo vouchers of this week that exist already and are not created again.",
    )
    voucher_count = fields.Integer(string="Vouchers", readonly=True)
    send_now = fields.Boolean(
        help="Send the vouchers at once instead of leaving them to the scheduled push."
    )

    @api.depends("day")
    def _compute_week(self):
        for wizard in self:
            if wizard.day:
                year, week, monday, sunday = vouchers.week_of(wizard.day)
                wizard.update(
                    {
                        "date_from": monday,
                        "date_to": sunday,
                        "period_key": f"{year:04d}-W{week:02d}",
                    }
                )
            else:
                wizard.update({"date_from": False, "date_to": False, "period_key": False})

    @api.onchange("backend_id", "day")
    def _onchange_reset_preview(self):
        self.update(
            {
                "previewed": False,
                "line_ids": [fields.Command.clear()],
                "problems": False,
                "existing_note": False,
            }
        )

    def _drafts(self):
        self.ensure_one()
        backend = self.backend_id
        backend._procountor_require("access_vouchers")
        return backend._procountor_build_vouchers(
            backend._procountor_voucher_rows(self.date_from, self.date_to),
            backend._procountor_settlement_rows(self.date_from, self.date_to),
            self.day,
        )

    def _split_existing(self, drafts):
        """``(drafts still to create, exchanges of this week that exist already)``."""
        existing = self.backend_id._procountor_existing_vouchers({d.period_key for d in drafts})
        new = [d for d in drafts if (d.organisation.id, d.period_key) not in existing]
        return new, self.env["procountor.exchange"].union(*existing.values())

    def _existing_text(self, exchanges):
        return self.env._(
            "%(count)s memo vouchers of week %(week)s exist already and are not created again: "
            "%(names)s.",
            count=len(exchanges),
            week=self.period_key,
            names=", ".join(exchanges.mapped("external_key")),
        )

    def action_preview(self):
        self.ensure_one()
        drafts, existing = self._split_existing(self._drafts())
        lines = []
        for draft in drafts:
            for row in (draft.payload or {}).get("transactions", []):
                value = row["accountingValue"]
                lines.append(
                    fields.Command.create(
                        {
                            "organisation_id": draft.organisation.id,
                            "voucher_name": draft.name,
                            "account": row["account"],
                            "dimensions": ", ".join(
                                f"{d['dimensionId']}/{d['itemId']}"
                                for d in row.get("dimensionItemValues", [])
                            ),
                            "description": row.get("description"),
                            "debit": float(value) if value > 0 else 0.0,
                            "credit": float(-value) if value < 0 else 0.0,
                        }
                    )
                )
        problems = [problem for draft in drafts for problem in draft.problems]
        if not drafts and not existing:
            problems = [self.env._("Nothing to book in week %s.", self.period_key)]
        self.write(
            {
                "previewed": True,
                "line_ids": [fields.Command.clear(), *lines],
                "problems": "\n".join(problems),
                "existing_note": self._existing_text(existing) if existing else False,
                "voucher_count": len([d for d in drafts if d.payload]),
            }
        )
        return self._reopen()

    def action_create(self):
        self.ensure_one()
        drafts, existing = self._split_existing(self._drafts())
        if existing and not drafts:
            raise UserError(self._existing_text(existing))
        problems = [problem for draft in drafts for problem in draft.problems]
        if problems:
            raise UserError(
                self.env._("Fix these before the vouchers are sent:\n%s", "\n".join(problems))
            )
        if not drafts:
            raise UserError(self.env._("Nothing to book in week %s.", self.period_key))
        exchanges = self.backend_id._procountor_queue_vouchers(drafts, self.day)
        if self.send_now:
            exchanges._send()
        elif exchanges:
            self.env["ir.cron"]._wake_every_copy_of("procountor_connector.ir_cron_procountor_push")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "procountor_connector.procountor_exchange_action"
        )
        action["domain"] = [
            ("backend_id", "=", self.backend_id.id),
            ("kind", "=", "voucher"),
            ("period_key", "=", drafts[0].period_key),
        ]
        return action

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Build memo vouchers"),
        }


class ProcountorVoucherWizardLine(models.TransientModel):
    _name = "procountor.voucher.wizard.line"
    _description = "Memo voucher row preview"
    _order = "id"

    wizard_id = fields.Many2one("procountor.voucher.wizard", required=True, ondelete="cascade")
    organisation_id = fields.Many2one("membook.organisation", string="Organisation")
    voucher_name = fields.Char(string="Voucher")
    account = fields.Char()
    dimensions = fields.Char(string="Dimension items")
    description = fields.Char()
    debit = fields.Float(digits=(16, 2))
    credit = fields.Float(digits=(16, 2))
