# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import api, fields, models
from odoo.tools import SQL

from .account_move import _cents
from .batching import VALUES_ROWS, copy_rows, execute_values, next_ids
from .registry_checks import overriding_modules, stored_dependents

_logger = logging.getLogger(__name__)

# What the set-based reconciliation of a bank day writes itself on journal items; the ORM then
# recomputes whatever depends on them (invoice amounts and payment state, membership state...).
RECONCILE_FIELDS = (
    "amount_residual",
    "amount_residual_currency",
    "reconciled",
    "full_reconcile_id",
    "matching_number",
)
# What it writes itself on the invoices; the ORM then recomputes what depends on those (members'
# membership state...).
MOVE_FIELDS = ("amount_residual", "amount_residual_signed", "payment_state")
# The columns of the partials the set-based reconciliation writes, in its rows' order.
PARTIAL_COLUMNS = (
    "id",
    "debit_move_id",
    "credit_move_id",
    "full_reconcile_id",
    "debit_currency_id",
    "credit_currency_id",
    "company_id",
    "max_date",
    "amount",
    "debit_amount_currency",
    "credit_amount_currency",
    "create_uid",
    "create_date",
    "write_uid",
    "write_date",
)
# The stored fields that depend on what reconciliation changes other than through MOVE_FIELDS,
# with why the set-based path keeps them right: it writes the items' residuals and the partials'
# computed columns itself; a bank statement line's residual only depends on its suspense item,
# and the credit items it reconciles are receivable items, not suspense. A module that adds
# another such field (seen when a bank day starts) sends reconciliation back to Odoo's path.
KNOWN_DEPENDENTS = {
    "account.move.line.amount_residual",
    "account.move.line.amount_residual_currency",
    "account.move.line.reconciled",
    "account.partial.reconcile.company_id",
    "account.partial.reconcile.credit_currency_id",
    "account.partial.reconcile.debit_currency_id",
    "account.partial.reconcile.max_date",
    "account.bank.statement.line.amount_residual",
    "account.bank.statement.line.is_reconciled",
}
# The modules whose overrides the set-based reconciliation knows, by model and method, with the
# method that does after it what their override does (None: nothing to do). Any other override
# (a module installed later) sends reconciliation back to Odoo's own path, where it runs; a module
# whose override the set-based path can do after it says so by extending account.move.line's
# _membook_reconcile_known_overrides.
KNOWN_OVERRIDES = {
    ("account.partial.reconcile", "create"): {
        "account": None,
        "membook_membership": "_membook_allocate",
    },
    ("account.full.reconcile", "create"): {"account": None},
    ("account.move.line", "_reconcile_plan_with_sync"): {"account": None},
    ("account.move.line", "_prepare_reconciliation_single_partial"): {"account": None},
    ("account.move.line", "_reconcile_pre_hook"): {"account": None},
    ("account.move.line", "_reconcile_post_hook"): {"account": None},
}


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    membook_split_ids = fields.One2many("membook.fee.split", "move_line_id", string="Fee split")
    membook_period_key = fields.Char(
        string="Billing period",
        copy=False,
        help="Set by billing runs: a member is billed once per product and period.",
    )

    def _create_membership_line(self):
        # A billing run creates the membership lines of a whole batch of invoices at once, after
        # creating them (see _membook_create_membership_lines): OCA membership looks for them
        # again after every write of a line while Odoo creates an invoice, and writes the state
        # of each new one apart.
        if self.env.context.get("membook_defer_membership_lines"):
            return
        super()._create_membership_line()

    def _membook_create_membership_lines(self):
        """Create the membership lines of these invoice lines at once, waiting for posting.

        The same as OCA membership does on creating invoice lines, in one create and one write
        for many invoices instead of one of each per line.
        """
        lines = self.with_context(membook_defer_membership_lines=False)
        lines._create_membership_line()
        lines.filtered(
            lambda line: line.move_id.move_type == "out_invoice" and line.product_id.membership
        ).membership_line_ids.write({"state": "waiting"})

    # ------------------------------------------------------------------
    # Bank day reconciliation
    # ------------------------------------------------------------------
    @api.model
    def _membook_reconcile_invoices(self, plans):
        """Reconcile bank payments with the invoices they pay, the invoices' side first.

        ``plans`` is ``[(key, credit, debit items)]``, one per payment, debit items in the
        order the matcher chose; ``credit`` describes the item the payment is about to be
        booked on: a dict of its ``account_id``, ``partner_id``, ``company_id``,
        ``currency_id``, ``date`` and ``amount`` (positive).

        Odoo's reconciliation costs several milliseconds per payment (partials and full
        reconciles created one ORM record at a time, with their triggers); a bank day
        reconciles tens of thousands. Plans in the plain case (company currency, no cash-basis
        taxes, invoices reconciled for the first time, no payment records involved) are
        written set-based, exactly as Odoo would write them, in two halves: this one, before
        the payments are booked, writes the full reconciles, the invoices' items, the invoices
        and what depends on them; ``_membook_reconcile_credits`` writes the partials once the
        payments' items exist, and the items themselves are booked reconciled. Booking numbers
        the day's entry, which holds the journal's numbering until the batch commits; the less
        is left after it, the less the other workers wait.

        Returns ``(pending, slow)``: what ``_membook_reconcile_credits`` needs, with the
        values each plain payment's item is booked with under ``pending["credits"][key]``;
        and the keys of the other plans, which go through Odoo's own path once booked
        (``_membook_reconcile_with_odoo``), as does every plan when a module overrides the
        reconciliation in a way this does not know. A test compares both paths column by
        column.
        """
        if reason := self.env["membook.bank.payment"]._membook_item_copy_blocker():
            _logger.info("Bank day: Odoo reconciles every payment: %s", reason)
            return {"credits": {}, "partials": [], "hooks": [], "paid": []}, [
                key for key, _credit, _debits in plans
            ]
        hooks = self._membook_reconcile_hooks()
        pending = {"credits": {}, "partials": [], "hooks": hooks or [], "paid": []}
        if hooks is None:
            return pending, [key for key, _credit, _debits in plans]
        fast, slow = self._membook_split_plans(plans)
        if fast:
            self._membook_reconcile_sql(fast, pending)
        return pending, slow

    @api.model
    def _membook_reconcile_credits(self, pending, credit_ids):
        """Second half of the set-based reconciliation (see ``_membook_reconcile_invoices``):
        create the partials between the invoices' items and the payments' items, now booked
        as ``credit_ids`` ({key: item id}); call the hooks of the modules that act on new
        partials, then Odoo's paid-invoice hook on the invoices this made paid."""
        rows = [
            (partial_id, debit_id, credit_ids[key], *rest)
            for key, partial_id, debit_id, *rest in pending["partials"]
        ]
        if rows:
            self.env.flush_all()
            copy_rows(self.env.cr, "account_partial_reconcile", PARTIAL_COLUMNS, rows)
            self.env.invalidate_all()
            created = self.env["account.partial.reconcile"].browse([row[0] for row in rows])
            for hook in pending["hooks"]:
                getattr(created, hook)()
        self.env["account.move"].browse(pending["paid"])._invoice_paid_hook()

    @api.model
    def _membook_reconcile_with_odoo(self, plans):
        """Reconcile ``[(credit item, debit items)]`` through Odoo's own path."""
        if not plans:
            return
        # Odoo's _reconcile_plan wraps this in balance and dynamic-line checks of every invoice
        # involved; reconciling changes neither balances nor tax or term lines, and those
        # checks cost more than the reconciliation on a bank day.
        plan_list, all_lines = self._optimize_reconciliation_plan(
            [credit | debits for credit, debits in plans]
        )
        self._reconcile_plan_with_sync(plan_list, all_lines)

    @api.model
    def _membook_reconcile_hooks(self):
        """The methods to call after creating partials in SQL, or None when an override of
        the reconciliation is not known (then only Odoo's path is safe)."""
        Partial, Full = self.env["account.partial.reconcile"], self.env["account.full.reconcile"]
        env = self.env
        dependents = (
            stored_dependents(
                env, self._name, [*RECONCILE_FIELDS, "matched_debit_ids", "matched_credit_ids"]
            )
            | stored_dependents(env, Partial._name, list(Partial._fields))
            | stored_dependents(env, Full._name, list(Full._fields))
        )
        dependents -= stored_dependents(env, "account.move", MOVE_FIELDS)
        dependents -= {f"account.move.{name}" for name in MOVE_FIELDS}
        if not dependents <= KNOWN_DEPENDENTS:
            return None
        hooks = []
        for (model, method), known in self._membook_reconcile_known_overrides().items():
            for module in overriding_modules(env, model, method):
                if module not in known:
                    return None
                if known[module]:
                    hooks.append(known[module])
        return hooks

    @api.model
    def _membook_reconcile_known_overrides(self):
        """{(model, method): {module: method to call after the set-based path, or None}} of the
        overrides of the reconciliation that the set-based path knows (see KNOWN_OVERRIDES).
        A hook: an addon overriding one of these methods extends it, calling super() the same
        tolerant way, as it may be installed without this one."""
        parent = getattr(super(), "_membook_reconcile_known_overrides", None)
        known = parent() if parent else {}
        for key, modules in KNOWN_OVERRIDES.items():
            known[key] = {**known.get(key, {}), **modules}
        return known

    @api.model
    def _membook_split_plans(self, plans):
        """Split ``plans`` (see ``_membook_reconcile_invoices``) into (the ones the set-based
        path handles, the keys of the others); the first come as ``[(key, credit, [debit
        rows])]`` with each invoice item's row as read here."""
        ids = [line.id for _key, _credit, debits in plans for line in debits]
        if not ids:
            return [], [key for key, _credit, _debits in plans]
        self.env.flush_all()
        rows = {
            row["id"]: row
            for row in self.env.execute_query_dict(
                SQL(
                    """
            SELECT line.id, line.move_id, line.account_id, line.partner_id, line.company_id,
                   line.currency_id, company.currency_id AS company_currency_id,
                   currency.decimal_places, line.balance, line.amount_currency,
                   line.amount_residual, line.amount_residual_currency, line.date,
                   line.date_maturity, line.parent_state, line.reconciled, account.reconcile,
                   company.tax_exigibility, move.move_type, move.payment_state,
                   EXISTS (SELECT 1 FROM account_partial_reconcile part
                            WHERE part.debit_move_id = line.id)
                   OR EXISTS (SELECT 1 FROM account_partial_reconcile part
                               WHERE part.credit_move_id = line.id) AS has_partials,
                   EXISTS (SELECT 1 FROM account_move__account_payment rel
                            WHERE rel.invoice_id = line.move_id) AS has_payments,
                   -- Looked up item by item: as a join, PostgreSQL scans all the partials.
                   CASE WHEN move.move_type = 'out_invoice' THEN
                        EXISTS (SELECT 1 FROM account_move_line other
                                 WHERE other.move_id = line.move_id
                                   AND (EXISTS (SELECT 1 FROM account_partial_reconcile part
                                                 WHERE part.debit_move_id = other.id)
                                        OR EXISTS (SELECT 1 FROM account_partial_reconcile part
                                                    WHERE part.credit_move_id = other.id)))
                   END AS invoice_has_partials
              FROM account_move_line line
              JOIN account_move move ON move.id = line.move_id
              JOIN account_account account ON account.id = line.account_id
              JOIN res_company company ON company.id = line.company_id
              JOIN res_currency currency ON currency.id = company.currency_id
             WHERE line.id = ANY(%s)
            """,
                    ids,
                )
            )
        }
        seen = {}
        for line_id in ids:
            seen[line_id] = seen.get(line_id, 0) + 1
        fast, slow = [], []
        for key, credit, debits in plans:
            debit_rows = [rows[line.id] for line in debits]
            # The payment's item is new: not reconciled, its residual its balance.
            plain = (
                credit["amount"] > 0
                # Odoo leaves a blocked or legacy payment state alone. An invoice reconciled
                # before, on any of its items, may have payments that Odoo's state weighs in.
                and all(
                    row["move_type"] == "out_invoice"
                    and row["payment_state"] in ("not_paid", "partial")
                    and not row["invoice_has_partials"]
                    for row in debit_rows
                )
                and all(
                    seen[row["id"]] == 1
                    and row["balance"] > 0
                    and row["currency_id"] == row["company_currency_id"] == credit["currency_id"]
                    and row["decimal_places"] == 2
                    and row["parent_state"] == "posted"
                    and row["reconcile"]
                    and not row["reconciled"]
                    and not row["has_partials"]
                    and not row["has_payments"]
                    and not row["tax_exigibility"]
                    and row["amount_residual"] == row["balance"]
                    and row["amount_residual_currency"] == row["amount_currency"]
                    and (row["account_id"], row["partner_id"], row["company_id"])
                    == (credit["account_id"], credit["partner_id"], credit["company_id"])
                    for row in debit_rows
                )
            )
            if plain and debit_rows:
                fast.append((key, credit, debit_rows))
            else:
                slow.append(key)
        return fast, slow

    @api.model
    def _membook_reconcile_sql(self, plans, pending):
        """Write the invoices' side of plain ``plans`` in SQL, as Odoo's
        ``_reconcile_plan_with_sync`` would: full reconciles, the invoices' items and the
        invoices; let the ORM recompute what depends on them. Fills ``pending`` with what
        ``_membook_reconcile_credits`` writes once the payments are booked, and the invoices
        made paid, for Odoo's hook then (see ``_membook_reconcile_invoices``)."""
        cr = self.env.cr
        invoices = self.env["account.move"].browse(
            {row["move_id"] for _key, _credit, debits in plans for row in debits}
        )
        partials, fulls = [], 0
        for key, credit, debits in plans:
            # Odoo reconciles the debit items in this order, each taking what the credit has left.
            debits = sorted(
                debits,
                key=lambda row: (
                    row["date_maturity"] or row["date"],
                    row["amount_currency"],
                    row["balance"],
                ),
            )
            left = _cents(credit["amount"])
            residuals = {}
            plan_partials = []
            for debit in debits:
                residual = _cents(debit["amount_residual"])
                amount = min(residual, left)  # both positive until the credit is used up
                if amount:
                    plan_partials.append((debit, amount))
                    left -= amount
                residuals[debit["id"]] = residual - amount
            full = not left and not any(residuals.values())
            fulls += full
            partials.append((key, credit, plan_partials, residuals, -left, full))
        partial_ids = iter(
            next_ids(cr, "account_partial_reconcile", sum(len(p[2]) for p in partials))
        )
        full_ids = iter(next_ids(cr, "account_full_reconcile", fulls))
        now, uid = cr.now(), self.env.uid
        full_rows, line_rows = [], []
        for key, credit, plan_partials, residuals, credit_residual, full in partials:
            full_id = next(full_ids) if full else None
            if full_id:
                full_rows.append((full_id, uid, now, uid, now))
            ids = [next(partial_ids) for _partial in plan_partials]
            for partial_id, (debit, amount) in zip(ids, plan_partials, strict=True):
                value = amount / 100
                # PARTIAL_COLUMNS but the payment's item, known once booked.
                pending["partials"].append(
                    (
                        key,
                        partial_id,
                        debit["id"],
                        full_id,
                        debit["currency_id"],
                        credit["currency_id"],
                        debit["company_id"],
                        max(debit["date"], credit["date"]),
                        value,
                        value,
                        value,
                        uid,
                        now,
                        uid,
                        now,
                    )
                )
            number = str(full_id) if full_id else f"P{ids[0]}"
            for line_id, residual in residuals.items():
                line_rows.append((line_id, residual / 100, not residual, full_id, number))
            pending["credits"][key] = (
                credit_residual / 100,
                not credit_residual,
                full_id,
                number,
            )
        copy_rows(
            cr,
            "account_full_reconcile",
            ("id", "create_uid", "create_date", "write_uid", "write_date"),
            full_rows,
        )
        # Written as the ORM writes them: by this user, at the transaction's time (cr.now()).
        execute_values(
            cr,
            SQL(
                """
            UPDATE account_move_line line
               SET amount_residual = v.residual::numeric,
                   amount_residual_currency = v.residual::numeric,
                   reconciled = v.reconciled, full_reconcile_id = v.full_id::int,
                   matching_number = v.number, write_uid = %s, write_date = %s
              FROM (VALUES %s) AS v(id, residual, reconciled, full_id, number)
             WHERE line.id = v.id
            """,
                uid,
                now,
                VALUES_ROWS,
            ),
            line_rows,
        )
        # An invoice's residual is its instalments'; paid against a bank statement line and no
        # payment record, Odoo calls it paid at zero, partly paid otherwise.
        cr.execute(
            SQL(
                """
            UPDATE account_move move
               SET amount_residual = term.residual, amount_residual_signed = term.residual,
                   payment_state = CASE WHEN term.residual = 0 THEN 'paid' ELSE 'partial' END,
                   write_uid = %s, write_date = %s
              FROM (SELECT move_id, SUM(amount_residual) AS residual FROM account_move_line
                     WHERE move_id = ANY(%s) AND display_type = 'payment_term'
                     GROUP BY move_id) AS term
             WHERE move.id = term.move_id
         RETURNING move.id, move.payment_state
            """,
                uid,
                now,
                invoices.ids,
            )
        )
        after = dict(cr.fetchall())
        self.env.invalidate_all()
        # What depends on the invoices' residual and payment state (the members' membership
        # state...) is recomputed by the ORM from what is now stored. Not the payment state
        # itself, written above; and no payment record is reconciled with a plain plan's
        # invoices (see _membook_split_plans), which the cache is told so that the ORM does not
        # look for payments to recompute through them.
        Move = self.env["account.move"]
        Move._fields["reconciled_payment_ids"]._update_cache(invoices, ())
        with self.env.protecting([Move._fields["payment_state"]], invoices):
            invoices.modified(MOVE_FIELDS)
        self.env.flush_all()
        # Plain plans pay customer invoices that were not paid before and that this writes paid
        # or partly paid (see _membook_split_plans): the ones it made paid get Odoo's hook once
        # their partials exist, as an override may look at them.
        pending["paid"] = [move_id for move_id, state in after.items() if state == "paid"]

    _membook_once_per_period = models.UniqueIndex(
        "(partner_id, product_id, membook_period_key) "
        "WHERE membook_period_key IS NOT NULL AND parent_state != 'cancel'",
        "This member has already been billed for this product and period.",
    )
