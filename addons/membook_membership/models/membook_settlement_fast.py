# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The weekly settlement's set-based path.

Odoo's path (``membook.settlement._settle``) settles one organisation at a time: it reads its
allocations, writes each one's settlement through the ORM, then counts the lines and payments in
Python; a weekly settlement of hundreds of thousands of allocations spends minutes there. Here
Odoo creates the settlements themselves (their number, reference, chatter and followers are its
own), and one statement gives each settlement its allocations, lines, total and payment count
from grouped totals. The golden test ``TestSettlementFastPath`` compares both paths, row for row.
"""

import logging

from psycopg2.extensions import TransactionRollbackError

from odoo import api, models
from odoo.tools import SQL

from .registry_checks import FAST_PATH_ERRORS, fast_paths_off, overriding_modules, stored_dependents

_logger = logging.getLogger(__name__)

# The stored fields depending on what the statement writes, which it writes itself. A module
# adding another sends the settlement to Odoo's path, which computes it.
SETTLE_KNOWN_DEPENDENTS = {
    "membook.settlement.amount_total",
    "membook.settlement.amount_payable",
}
# The modules whose overrides of what Odoo's path runs the statement knows. Any other module's
# override sends the settlement to Odoo's path, where it runs.
SETTLE_KNOWN_OVERRIDES = {
    ("membook.settlement", "_settle"): {"membook_membership"},
    ("membook.settlement", "_refresh_lines"): {"membook_membership"},
    ("membook.settlement", "_paid_with"): {"membook_membership"},
    ("membook.settlement", "_compute_amount_total"): {"membook_membership"},
    ("membook.settlement", "_compute_amount_payable"): {"membook_membership"},
    ("membook.allocation", "write"): set(),
    ("membook.settlement.line", "create"): set(),
}


class MembookSettlementFast(models.Model):
    _inherit = "membook.settlement"

    @api.model
    def _membook_settle_blocker(self):
        """Why the settlement is not to be written in SQL (then Odoo settles each
        organisation), or None."""
        if reason := fast_paths_off(self.env):
            return reason
        env = self.env
        dependents = (
            stored_dependents(env, "membook.allocation", ["settlement_id", "amount"])
            | stored_dependents(
                env,
                self._name,
                ["allocation_ids", "line_ids", "amount_total", "payment_count", "service_fee"],
            )
            | stored_dependents(
                env, "membook.settlement.line", ["settlement_id", "product_id", "count", "amount"]
            )
        )
        if unknown := dependents - SETTLE_KNOWN_DEPENDENTS:
            return (
                f"stored fields depend on a settlement's allocations: {', '.join(sorted(unknown))}"
            )
        for (model, method), known in SETTLE_KNOWN_OVERRIDES.items():
            for module in overriding_modules(env, model, method):
                if module not in known:
                    return f"{module} overrides {model}.{method}"
        return None

    @api.model
    def _settle_organisations(self, company, date, organisations=None):
        """Settle in SQL (see the module's docstring) unless ``_membook_settle_blocker`` says
        why not; a database or programming error undoes it to a savepoint and Odoo settles."""
        reason = self._membook_settle_blocker()
        if reason:
            _logger.info("Settlements: Odoo settles %s: %s", company.name, reason)
            return super()._settle_organisations(company, date, organisations)
        try:
            with self.env.cr.savepoint():
                return self._settle_sql(company, date, organisations)
        except TransactionRollbackError:
            # Another transaction changed the rows: Odoo takes the whole transaction again.
            raise
        except FAST_PATH_ERRORS as exc:
            reason = self.env._("the SQL settlement failed (%s): Odoo settled", repr(exc))
        _logger.info("Settlements: %s: %s", company.name, reason)
        settlements = super()._settle_organisations(company, date, organisations)
        settlements._message_log_batch(bodies=dict.fromkeys(settlements.ids, reason))
        return settlements

    @api.model
    def _settle_sql(self, company, date, organisations=None):
        organisations_ = [
            organisation
            for organisation in self._organisations_to_settle(company, date)
            if organisations is None or organisation in organisations
        ]
        if not organisations_:
            return self.browse()
        # Odoo creates the settlements, in the order of its own path: numbers, references,
        # followers and the creation message are its own.
        settlements = self.create(
            [
                {"company_id": company.id, "organisation_id": organisation.id, "date": date}
                for organisation in organisations_
            ]
        )
        self.env.flush_all()
        Allocation = self.env["membook.allocation"]
        Line = self.env["membook.settlement.line"]
        now, uid = self.env.cr.now(), self.env.uid
        allocation_table = SQL.identifier(Allocation._table)
        self.env.cr.execute(
            SQL(
                """
            WITH settle AS (
                SELECT * FROM unnest(%(organisations)s::int[], %(settlements)s::int[])
                           AS settle(organisation_id, settlement_id)
            ), moved AS (
                UPDATE %(allocation)s alloc
                   SET settlement_id = settle.settlement_id, write_uid = %(uid)s,
                       write_date = %(now)s
                  FROM settle
                 WHERE alloc.organisation_id = settle.organisation_id
                   AND alloc.company_id = %(company)s AND alloc.settlement_id IS NULL
                   AND alloc.date <= %(date)s
             RETURNING alloc.id, alloc.settlement_id, alloc.product_id, alloc.amount,
                       alloc.reversed_id, alloc.bank_payment_id, alloc.counterpart_move_id,
                       alloc.invoice_id
            ), lines AS (
                INSERT INTO %(line)s (settlement_id, product_id, %(count)s, amount,
                                      create_uid, create_date, write_uid, write_date)
                SELECT settlement_id, product_id, COUNT(*), SUM(amount),
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM moved
              GROUP BY settlement_id, product_id
              ORDER BY settlement_id, product_id NULLS FIRST
            ), totals AS (
                SELECT settlement_id, SUM(amount) AS total FROM moved GROUP BY settlement_id
            ), paid AS (
                -- One payment per bank payment, else per paying entry and fee document, of
                -- the positive rows not reversed in the same settlement (as _paid_with).
                SELECT moved.settlement_id,
                       COUNT(DISTINCT (
                           COALESCE(moved.bank_payment_id, 0),
                           CASE WHEN moved.bank_payment_id IS NULL
                                THEN COALESCE(moved.counterpart_move_id, 0) ELSE 0 END,
                           CASE WHEN moved.bank_payment_id IS NULL
                                THEN COALESCE(moved.invoice_id, 0) ELSE 0 END
                       )) AS payments
                  FROM moved
                 WHERE moved.amount > 0
                   AND NOT EXISTS (
                        SELECT 1 FROM moved reversal
                         WHERE reversal.settlement_id = moved.settlement_id
                           AND reversal.reversed_id = moved.id)
              GROUP BY moved.settlement_id
            )
            UPDATE %(settlement)s settlement
               SET amount_total = totals.total,
                   amount_payable = totals.total - COALESCE(settlement.service_fee, 0),
                   payment_count = COALESCE(paid.payments, 0),
                   write_uid = %(uid)s, write_date = %(now)s
              FROM settle
              LEFT JOIN totals ON totals.settlement_id = settle.settlement_id
              LEFT JOIN paid ON paid.settlement_id = settle.settlement_id
             WHERE settlement.id = settle.settlement_id
         RETURNING settlement.id, totals.total
            """,
                organisations=[organisation.id for organisation in organisations_],
                settlements=settlements.ids,
                allocation=allocation_table,
                line=SQL.identifier(Line._table),
                settlement=SQL.identifier(self._table),
                count=SQL.identifier("count"),
                uid=uid,
                now=now,
                company=company.id,
                date=date,
            )
        )
        totals = dict(self.env.cr.fetchall())
        Allocation.invalidate_model(["settlement_id", "write_uid", "write_date"])
        Line.invalidate_model()
        self.invalidate_model(
            [
                "allocation_ids",
                "line_ids",
                "amount_total",
                "amount_payable",
                "payment_count",
                "write_uid",
                "write_date",
            ]
        )
        # Odoo's path settles no organisation whose rows, once locked, total nothing: the
        # statement saw the same rows as the totals it settled by, which cannot differ here.
        if empty := [sid for sid, total in totals.items() if not total or total <= 0]:
            raise ValueError(f"settlements {empty} settle nothing")
        return settlements
