# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The bank day's booking engine.

What matching decided is booked here: one statement line per booking date for a batch's matched
payments (the payers' journal items copied in SQL from the first, see ``_copy_item``, unless
``_membook_item_copy_blocker`` gives a reason to let Odoo create each), one line each for the
payments a person must place, corrections with their bank charges, and the reversal of an
earlier payment. The golden tests of ``tests/test_bank_day.py`` compare both paths.
"""

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from nordic_billing.money import to_decimal

from .batching import VALUES_ROWS, execute_values, next_ids
from .registry_checks import fast_paths_off, overriding_modules, stored_dependents

# The payers' items of a day entry are copied in SQL from the first (_copy_item): the stored
# fields of journal items depending on what a copy changes, which it writes itself or which
# hold for every payer's item alike, and the modules whose overrides of creating an item do
# nothing a copy misses. Any other sends the bank day to Odoo's path, which creates each item.
ITEM_COPY_KNOWN_DEPENDENTS = {
    "account.move.line.amount_residual",
    "account.move.line.amount_residual_currency",
    "account.move.line.reconciled",
    "account.move.line.balance",
    "account.move.line.debit",
    "account.move.line.credit",
    "account.move.line.price_subtotal",
    "account.move.line.price_total",
    "account.move.line.amount_currency",
    "account.move.line.commercial_partner_id",
    "account.move.line.matching_number",
    # The payer (partner) picks a distribution model: only when the company has none (checked
    # with the registry) is every payer's item without analytic distribution, as the first's.
    "account.move.line.analytic_distribution",
}
ITEM_COPY_KNOWN_OVERRIDES = {
    ("account.move.line", "create"): {"account", "analytic", "membership"},
}


class MembookBankPaymentBooking(models.Model):
    _inherit = "membook.bank.payment"

    @api.model
    def _membook_item_copy_blocker(self):
        """Why the payers' items and their reconciliation are not to be written in SQL (see
        ``_copy_item``), or None."""
        if reason := fast_paths_off(self.env):
            return reason
        env = self.env
        copied = stored_dependents(
            env,
            "account.move.line",
            ["partner_id", "name", "balance", "amount_currency", "debit", "credit"],
        )
        copied = {name for name in copied if name.startswith("account.move.line.")}
        if unknown := copied - ITEM_COPY_KNOWN_DEPENDENTS:
            return f"stored fields depend on the payer's item: {', '.join(sorted(unknown))}"
        for (model, method), known in ITEM_COPY_KNOWN_OVERRIDES.items():
            for module in overriding_modules(env, model, method):
                if module not in known:
                    return f"{module} overrides {model}.{method}"
        if env["account.analytic.distribution.model"].sudo().search_count([], limit=1):
            return "analytic distribution models may give each payer's item its own"
        return None

    @api.model
    def _statement_lines(self):
        return self.env["account.bank.statement.line"].with_context(
            tracking_disable=True, mail_notrack=True, mail_create_nolog=True
        )

    @api.model
    def _book_matched(self, journal, payers, reconciled=None):
        """Book matched payments together: one statement line per booking date.

        The bank shows a day's reference payments as one credit on the account statement, so
        the day's matched payments of a batch make one statement line: its entry debits the bank
        with the total and credits each payer's receivable with what that payer paid. Each
        payment keeps its own counterpart item, which is reconciled with the invoices it pays
        (and unreconciled if the payment is reversed). ``payers`` holds (payment, receivable
        account id, partner id); returns {payment: (counterpart item id, statement line id)}.
        Payments waiting in the unmatched queue come with the journal's unidentified payments
        account instead of a receivable: they make a statement line of their own for the day,
        and each is assigned from its item on that account. ``reconciled`` holds, by payment,
        the reconciliation columns its item is booked with (see
        ``account.move.line._membook_reconcile_invoices``).

        Odoo books the entry with the bank item and the first payer's item for the whole
        total; the other payers' items are then copied from that one in SQL, changing only the
        payer, label and amounts (creating thousands of journal items through the ORM costs
        about 10 ms each). A test compares these items with ones the ORM creates.
        """
        # One entry per date and receivable account: the copies share the first item's account.
        groups = {}
        for payment, account_id, partner_id in payers:
            date = payment.booking_date or payment.payment_date
            groups.setdefault((date, account_id), []).append((payment, partner_id))
        currency = journal.currency_id or journal.company_id.currency_id
        groups = sorted(groups.items())
        vals_list = []
        for (date, account_id), rows in groups:
            if account_id == journal.membook_unidentified_account_id.id:
                label = self.env._(
                    "Unidentified payments of %(date)s: %(count)s",
                    date=fields.Date.to_string(date),
                    count=len(rows),
                )
            else:
                label = self.env._(
                    "Reference payments of %(date)s: %(count)s",
                    date=fields.Date.to_string(date),
                    count=len(rows),
                )
            # The bank credited the amounts; the payers paid them with the charges the bank
            # deducted, which go to the journal's bank charges account (see _charges_item).
            amount = sum(to_decimal(payment.amount) for payment, _partner in rows)
            paid = sum(payment._membook_paid_amount() for payment, _partner in rows)
            first_payment, first_partner = rows[0]
            vals_list.append(
                {
                    "journal_id": journal.id,
                    "date": date,
                    "amount": float(amount),
                    "payment_ref": label,
                    "line_ids": [
                        Command.create(
                            {
                                "name": label,
                                "account_id": journal.default_account_id.id,
                                "currency_id": currency.id,
                                "amount_currency": float(amount),
                                "debit": float(amount),
                                "credit": 0.0,
                            }
                        ),
                        Command.create(
                            {
                                "name": first_payment._membook_item_label(),
                                "account_id": account_id,
                                "partner_id": first_partner,
                                "currency_id": currency.id,
                                "amount_currency": -float(paid),
                                "debit": 0.0,
                                "credit": float(paid),
                            }
                        ),
                    ],
                }
            )
        by_odoo = self._membook_item_copy_blocker()
        if by_odoo:
            # Odoo creates every payer's item; none is reconciled yet (see
            # account.move.line's _membook_reconcile_invoices, which checks the same).
            for vals, ((_date, _account_id), rows) in zip(vals_list, groups, strict=True):
                template = vals["line_ids"][1][2]
                vals["line_ids"][1:] = [
                    Command.create(
                        {
                            **template,
                            "name": payment._membook_item_label(),
                            "partner_id": partner_id,
                            "amount_currency": -float(payment._membook_paid_amount()),
                            "credit": float(payment._membook_paid_amount()),
                        }
                    )
                    for payment, partner_id in rows
                ]
        for vals, ((date, _account_id), rows) in zip(vals_list, groups, strict=True):
            charges = sum(payment._membook_incoming_charges() for payment, _partner in rows)
            if charges:
                label = self.env._(
                    "Bank charges of %(date)s: %(count)s payments",
                    date=fields.Date.to_string(date),
                    count=sum(1 for payment, _partner in rows if payment.charges),
                )
                vals["line_ids"].append(self._charges_item(journal, label, charges))
        # One create for all the entries: Odoo's cost of creating and posting them is mostly
        # per call, not per entry.
        st_lines = self._statement_lines().create(vals_list)
        if by_odoo:
            counterparts = {}
            for ((_date, account_id), rows), st_line in zip(groups, st_lines, strict=True):
                items = st_line.move_id.line_ids.filtered(
                    lambda line, account_id=account_id: line.account_id.id == account_id
                ).sorted("id")
                if len(items) != len(rows):
                    raise UserError(
                        self.env._("The bank entry %s was not booked as expected.", st_line.name)
                    )
                for (payment, _partner_id), item in zip(rows, items, strict=True):
                    counterparts[payment] = (item.id, st_line.id)
            return counterparts
        counterparts = {}
        templates = []
        for ((_date, account_id), _rows), st_line in zip(groups, st_lines, strict=True):
            template = st_line.move_id.line_ids.filtered(
                lambda line, account_id=account_id: line.account_id.id == account_id
            )
            if len(template) != 1:
                raise UserError(
                    self.env._("The bank entry %s was not booked as expected.", st_line.name)
                )
            templates.append(template)
        for ((_date, _account_id), rows), st_line, template in zip(
            groups, st_lines, templates, strict=True
        ):
            ids = self._copy_item(
                template,
                [
                    (
                        partner_id,
                        payment._membook_item_label(),
                        payment._membook_paid_amount(),
                        (reconciled or {}).get(payment),
                    )
                    for payment, partner_id in rows
                ],
            )
            for (payment, *_rest), line_id in zip(rows, ids, strict=True):
                counterparts[payment] = (line_id, st_line.id)
        return counterparts

    def _membook_item_label(self):
        """The label of this payment's item on the day entry: what identifies it best."""
        return self.reference or self.message or self.payer_name or self.archive_id

    @api.model
    def _copy_item(self, template, rows):
        """Turn credit item ``template`` into one item per (partner id, label, amount,
        reconciliation) row, where reconciliation is None for an open item or the (residual,
        reconciled, full reconcile id, matching number) it is booked with.

        The first row takes over the template, the others are copies of it; the amounts add
        up to the template's, so the entry stays balanced. Returns the item ids in row order.
        """
        AccountMoveLine = self.env["account.move.line"]
        # Everything pending is computed while the entry has its two items (its statement
        # line's residual reads them all); the copies change nothing it depends on.
        self.env.flush_all()
        cr = self.env.cr
        ids = [template.id, *next_ids(cr, "account_move_line", len(rows) - 1)]
        values = []
        for line_id, (partner_id, name, amount, reconciliation) in zip(ids, rows, strict=True):
            reconciliation = reconciliation or (-amount, False, None, None)
            values.append((line_id, partner_id, name, amount, *reconciliation))
        changed = (
            "partner_id",
            "name",
            "debit",
            "credit",
            "balance",
            "amount_currency",
            "price_subtotal",
            "price_total",
            "amount_residual",
            "amount_residual_currency",
            "reconciled",
            "full_reconcile_id",
            "matching_number",
        )
        cr.execute(
            SQL(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_name = 'account_move_line' AND table_schema = current_schema()"
            )
        )
        kept = [name for (name,) in cr.fetchall() if name not in ("id", *changed, "write_date")]
        # Written as the ORM writes them: at the transaction's time (cr.now()).
        now = cr.now()
        amounts = SQL("-v.amount::numeric")
        execute_values(
            cr,
            SQL(
                """
            INSERT INTO account_move_line (%s)
            SELECT v.id::int, v.partner::int, v.name, 0, v.amount::numeric, %s, %s, %s, %s,
                   v.residual::numeric, v.residual::numeric, v.reconciled, v.full_id::int,
                   v.number, %s, %s
              FROM (VALUES %s) AS v(id, partner, name, amount, residual, reconciled, full_id,
                                    number)
              JOIN account_move_line t ON t.id = %s
            """,
                SQL(", ").join(
                    SQL.identifier(name) for name in ("id", *changed, "write_date", *kept)
                ),
                amounts,
                amounts,
                amounts,
                amounts,
                now,
                SQL(", ").join(SQL.identifier("t", name) for name in kept),
                VALUES_ROWS,
                template.id,
            ),
            values[1:],
        )
        line_id, partner_id, name, amount, residual, reconciled, full_id, number = values[0]
        cr.execute(
            SQL(
                """
            UPDATE account_move_line
               SET partner_id = %s, name = %s, debit = 0, credit = %s, balance = -%s,
                   amount_currency = -%s, price_subtotal = -%s, price_total = -%s,
                   amount_residual = %s, amount_residual_currency = %s, reconciled = %s,
                   full_reconcile_id = %s, matching_number = %s, write_date = %s
             WHERE id = %s
            """,
                partner_id,
                name,
                *([amount] * 5),
                residual,
                residual,
                reconciled,
                full_id,
                number,
                now,
                line_id,
            )
        )
        AccountMoveLine.invalidate_model()
        template.move_id.invalidate_recordset(["line_ids"])
        return ids

    @api.model
    def _charges_item(self, journal, label, charges, partner_id=False):
        """The statement line item debiting ``charges`` (a positive Decimal) that the bank
        deducted from incoming payments before crediting them: on the journal's bank charges
        account, or on suspense when it has none, which the label then says."""
        currency = journal.currency_id or journal.company_id.currency_id
        account = journal.membook_bank_fee_account_id
        if not account:
            account = journal.suspense_account_id
            label = self.env._(
                "%(label)s (on suspense: the journal has no bank charges account)", label=label
            )
        return Command.create(
            {
                "name": label,
                "account_id": account.id,
                "partner_id": partner_id,
                "currency_id": currency.id,
                "amount_currency": float(charges),
                "debit": float(charges),
                "credit": 0.0,
            }
        )

    def _membook_charges_note(self):
        """What a person reading this payment is to know of its charges, or ``""``: where the
        charges the bank deducted went."""
        self.ensure_one()
        charges = self._membook_incoming_charges()
        if not charges:
            return ""
        if self.journal_id.membook_bank_fee_account_id:
            return self.env._(
                "Bank charges of %(charges)s deducted by the bank are booked on %(account)s.",
                charges=charges,
                account=self.journal_id.membook_bank_fee_account_id.display_name,
            )
        return self.env._(
            "Bank charges of %(charges)s deducted by the bank wait on the suspense account: "
            "the journal has no bank charges account.",
            charges=charges,
        )

    @api.model
    def _book_singly(self, journal, plans):
        """Book each payment a person must look at on its own statement line, on suspense.

        A correction with bank charges (a returned direct debit and its fee) takes the
        correction and the fee out of the bank together: the fee goes to the journal's bank
        charges account (on suspense too when it has none), the correction alone to suspense.
        """
        vals_list = []
        for payment, decision, _lines in plans:
            vals = {
                "journal_id": journal.id,
                "date": payment.booking_date or payment.payment_date,
                "amount": -payment.amount if payment.is_correction else payment.amount,
                "payment_ref": payment.reference or payment.message or payment.payer_name,
                "partner_name": payment.payer_name,
                "partner_id": decision.partner_id or False,
            }
            if payment.is_correction and payment.currency_id.compare_amounts(payment.charges, 0):
                vals.update(
                    payment._correction_with_charges_lines(journal, decision.partner_id or False)
                )
            elif charges := payment._membook_incoming_charges():
                vals["line_ids"] = payment._incoming_with_charges_lines(
                    journal, decision.partner_id or False, charges
                )
            vals_list.append(vals)
        st_lines = self._statement_lines().create(vals_list)
        return {plan[0]: st_line for plan, st_line in zip(plans, st_lines, strict=True)}

    def _incoming_with_charges_lines(self, journal, partner_id, charges):
        """Statement line items of this incoming payment for a person to place: the bank
        credited its amount, the payer's credit on suspense is what they paid, the charges the
        bank deducted are booked apart (see ``_charges_item``)."""
        self.ensure_one()
        currency = journal.currency_id or journal.company_id.currency_id
        amount, paid = to_decimal(self.amount), self._membook_paid_amount()
        label = self._membook_item_label()
        return [
            Command.create(
                {
                    "name": label,
                    "account_id": journal.default_account_id.id,
                    "partner_id": partner_id,
                    "currency_id": currency.id,
                    "amount_currency": float(amount),
                    "debit": float(amount),
                    "credit": 0.0,
                }
            ),
            Command.create(
                {
                    "name": label,
                    "account_id": journal.suspense_account_id.id,
                    "partner_id": partner_id,
                    "currency_id": currency.id,
                    "amount_currency": -float(paid),
                    "debit": 0.0,
                    "credit": float(paid),
                }
            ),
            self._charges_item(
                journal,
                self.env._("Bank charges: %(label)s", label=label),
                charges,
                partner_id,
            ),
        ]

    def _correction_with_charges_lines(self, journal, partner_id):
        """Statement line values of this correction and its bank charges, booked together."""
        self.ensure_one()
        currency = journal.currency_id or journal.company_id.currency_id
        total = to_decimal(self.amount) + to_decimal(self.charges)
        fee_account = journal.membook_bank_fee_account_id or journal.suspense_account_id

        def item(name, account, amount):
            return Command.create(
                {
                    "name": name,
                    "account_id": account.id,
                    "partner_id": partner_id,
                    "currency_id": currency.id,
                    "amount_currency": float(amount),
                    "debit": float(max(amount, 0)),
                    "credit": float(max(-amount, 0)),
                }
            )

        label = self._membook_item_label()
        return {
            "amount": -float(total),
            "line_ids": [
                item(label, journal.default_account_id, -total),
                item(label, journal.suspense_account_id, to_decimal(self.amount)),
                item(
                    self.env._("Bank charges: %(label)s", label=label),
                    fee_account,
                    to_decimal(self.charges),
                ),
            ],
        }

    def _reverse_original(self, reverses):
        """Undo the payment this correction reverses: reopen its invoices, reverse allocations."""
        self.ensure_one()
        account, archive_id = reverses
        original = self.search(
            [
                ("journal_id", "=", self.journal_id.id),
                ("account", "=", account),
                ("archive_id", "=", archive_id),
                ("is_correction", "=", False),
            ],
            limit=1,
        )
        if not original:
            return
        original_counterparts = original.counterpart_line_id
        # The correction's item on suspense: the first one (its bank charges may follow there).
        reversal_line = self.statement_line_id.move_id.line_ids.filtered(
            lambda line: line.account_id == self.statement_line_id.journal_id.suspense_account_id
        ).sorted("id")[:1]
        if original_counterparts:
            # Reopen the invoices (which reverses the allocations, as of the correction's
            # date), then settle the original payment with this correction.
            original_counterparts.with_context(
                membook_allocation_date=self.payment_date or self.booking_date
            ).remove_move_reconcile()
            reversal_line.write(
                {
                    "account_id": original_counterparts[:1].account_id.id,
                    "partner_id": original_counterparts[:1].partner_id.id,
                }
            )
            self.env["account.move.line"]._reconcile_plan([original_counterparts | reversal_line])
        original.write({"state": "reversed", "reversed_by_id": self.id})
        self.write({"reverses_id": original.id, "invoice_ids": [(6, 0, original.invoice_ids.ids)]})
