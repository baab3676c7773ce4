# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.tools import SQL

ALLOCATION_REL = "procountor_voucher_line_allocation_rel"
SETTLEMENT_REL = "procountor_voucher_line_settlement_rel"


class ProcountorVoucherLine(models.Model):
    """One row of a memo voucher as sent, and the allocations and settlements it sums.

    Written once with its voucher (bulk, a week may hold hundreds of thousands of allocations)
    and again only when a voucher not yet in Procountor is rebuilt: the trail from a row of the
    organisation's books back to the members' payments.
    """

    _name = "procountor.voucher.line"
    _description = "Memo voucher row"
    _order = "exchange_id, sequence, id"
    _check_company_auto = True

    exchange_id = fields.Many2one(
        "procountor.exchange",
        string="Memo voucher",
        required=True,
        ondelete="cascade",
        index=True,
        readonly=True,
    )
    company_id = fields.Many2one(related="exchange_id.company_id", store=True, index=True)
    organisation_id = fields.Many2one(related="exchange_id.organisation_id")
    sequence = fields.Integer(readonly=True)
    account = fields.Char(readonly=True)
    dimensions = fields.Char(string="Dimension items", readonly=True)
    description = fields.Char(readonly=True)
    debit = fields.Float(digits=(16, 2), readonly=True)
    credit = fields.Float(digits=(16, 2), readonly=True)
    allocation_ids = fields.Many2many(
        "membook.allocation",
        ALLOCATION_REL,
        "line_id",
        "allocation_id",
        string="Allocations",
        readonly=True,
    )
    allocation_count = fields.Integer(
        string="Allocations summed", readonly=True, help="How many allocations this row sums."
    )
    sums_voucher = fields.Boolean(
        string="Sums the fee rows",
        readonly=True,
        help="The clearing row of the fees collected: it sums the allocations of every fee and "
        "credit note row of its voucher, which are linked there rather than twice.",
    )
    settlement_ids = fields.Many2many(
        "membook.settlement",
        SETTLEMENT_REL,
        "line_id",
        "settlement_id",
        string="Settlements",
        readonly=True,
    )

    @api.model
    def _procountor_vals(self, exchange, sequence, row, trace, sums_voucher=False):
        value = row["accountingValue"]
        return {
            "sums_voucher": sums_voucher,
            "exchange_id": exchange.id,
            "sequence": sequence,
            "account": row["account"],
            "dimensions": ", ".join(
                f"{d['dimensionId']}/{d['itemId']}" for d in row.get("dimensionItemValues", [])
            ),
            "description": row.get("description"),
            "debit": float(value) if value > 0 else 0.0,
            "credit": float(-value) if value < 0 else 0.0,
            "allocation_count": len(trace.allocations),
        }

    def _procountor_link(self, traces):
        """Link each line to the allocations and settlements of its trace, in bulk.

        Ids go to the database as one text array literal per column: adapting hundreds of
        thousands of ints one by one costs more than the insert itself.
        """
        for table, column, attribute in (
            (ALLOCATION_REL, "allocation_id", "allocations"),
            (SETTLEMENT_REL, "settlement_id", "settlements"),
        ):
            line_ids, target_ids = [], []
            for line, trace in zip(self, traces, strict=True):
                if attribute == "allocations" and line.sums_voucher:
                    continue
                targets = getattr(trace, attribute)
                line_ids += [line.id] * len(targets)
                target_ids += targets
            if line_ids:
                self.env.cr.execute(
                    SQL(
                        "INSERT INTO %s (line_id, %s) SELECT * FROM unnest(%s::int[], %s::int[])",
                        SQL.identifier(table),
                        SQL.identifier(column),
                        "{" + ",".join(map(str, line_ids)) + "}",
                        "{" + ",".join(map(str, target_ids)) + "}",
                    )
                )
        self.invalidate_recordset(["allocation_ids", "settlement_ids"])
        self.env["membook.allocation"].invalidate_model(["procountor_voucher_line_ids"])
        self.env["membook.settlement"].invalidate_model(["procountor_voucher_line_ids"])

    def action_view_allocations(self):
        self.ensure_one()
        domain = (
            self.exchange_id._allocation_domain()
            if self.sums_voucher
            else [("procountor_voucher_line_ids", "in", self.ids)]
        )
        return self.exchange_id._procountor_list_action(
            "membook.allocation",
            domain,
            self.env._("Allocations of %s", self.description or self.account),
        )


class MembookAllocation(models.Model):
    _inherit = "membook.allocation"

    procountor_voucher_line_ids = fields.Many2many(
        "procountor.voucher.line",
        ALLOCATION_REL,
        "allocation_id",
        "line_id",
        string="Memo voucher rows",
        readonly=True,
        groups="procountor_connector.group_procountor_user",
    )
    procountor_voucher_id = fields.Many2one(
        "procountor.exchange",
        string="Memo voucher",
        compute="_compute_procountor_voucher_id",
        groups="procountor_connector.group_procountor_user",
        help="The memo voucher that booked this allocation in the organisation's books.",
    )

    def _compute_procountor_voucher_id(self):
        found = {}
        if self.ids:
            self.env["procountor.voucher.line"].flush_model(["exchange_id"])
            self.env.cr.execute(
                SQL(
                    """SELECT rel.allocation_id, MAX(line.exchange_id)
                         FROM %s rel
                         JOIN procountor_voucher_line line ON line.id = rel.line_id
                        WHERE rel.allocation_id = ANY(%s)
                     GROUP BY rel.allocation_id""",
                    SQL.identifier(ALLOCATION_REL),
                    list(self.ids),
                )
            )
            found = dict(self.env.cr.fetchall())
        Exchange = self.env["procountor.exchange"]
        for allocation in self:
            allocation.procountor_voucher_id = Exchange.browse(found.get(allocation.id))

    def action_view_procountor_voucher(self):
        self.ensure_one()
        voucher = self.procountor_voucher_id
        return {
            "type": "ir.actions.act_window",
            "res_model": "procountor.exchange",
            "res_id": voucher.id,
            "view_mode": "form",
        }


class MembookSettlement(models.Model):
    _inherit = "membook.settlement"

    procountor_voucher_line_ids = fields.Many2many(
        "procountor.voucher.line",
        SETTLEMENT_REL,
        "settlement_id",
        "line_id",
        string="Memo voucher rows",
        readonly=True,
        groups="procountor_connector.group_procountor_user",
    )
    procountor_voucher_count = fields.Integer(
        string="Memo vouchers",
        compute="_compute_procountor_voucher_count",
        groups="procountor_connector.group_procountor_user",
    )

    def _procountor_voucher_domain(self):
        """Memo vouchers that book this settlement's payout or the allocations it settles."""
        return [
            ("kind", "=", "voucher"),
            "|",
            ("line_ids.settlement_ids", "in", self.ids),
            ("line_ids.allocation_ids.settlement_id", "in", self.ids),
        ]

    def _compute_procountor_voucher_count(self):
        Exchange = self.env["procountor.exchange"]
        for settlement in self:
            settlement.procountor_voucher_count = (
                Exchange.search_count(settlement._procountor_voucher_domain())
                if settlement.id
                else 0
            )

    def action_view_procountor_vouchers(self):
        self.ensure_one()
        return self.env["procountor.exchange"]._procountor_list_action(
            "procountor.exchange",
            self._procountor_voucher_domain(),
            self.env._("Memo vouchers of %s", self.name),
        )
