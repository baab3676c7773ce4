# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from decimal import Decimal

from markupsafe import Markup

from odoo import api, fields, models, tools
from odoo.tools import SQL, format_amount, format_date

from nordic_billing import allocation
from nordic_billing.allocation import AllocationLine, from_cents, to_cents
from nordic_billing.references import normalise_for_matching

from .batching import insert_rows, next_ids
from .registry_checks import overriding_modules, stored_dependents

CENT = Decimal("0.01")


def _cents(value):
    """Cents of an Odoo float amount."""
    return to_cents(Decimal(str(value)).quantize(CENT))


# Billing runs let Odoo make one invoice per shape of member (see membook.billing.run.line's
# _copy_shape) and copy it in SQL to the other members of that shape. The stored fields of
# invoices and their items that depend on the member, or on the invoice's number, with how a
# copy keeps each right. A module adding another such field sends every invoice back to Odoo.
COPY_KNOWN_DEPENDENTS = {
    # The member: copies are made for members without a parent company or contacts.
    "account.move.commercial_partner_id",
    "account.move.partner_shipping_id",
    # Written for each copy.
    "account.move.invoice_partner_display_name",
    "account.move.sequence_number",
    "account.move.line.move_name",
    "account.move.membook_reference_key",
    # Part of the shape: language, payment term, fiscal position, salesperson, payment method.
    "account.move.fiscal_position_id",
    "account.move.invoice_payment_term_id",
    "account.move.invoice_date_due",
    "account.move.invoice_user_id",
    "account.move.narration",
    "account.move.preferred_payment_method_line_id",
    # The company's account on a customer invoice, whoever the member.
    "account.move.partner_bank_id",
    # The shape (language); the payment reference in it is written for each copy.
    "account.move.line.name",
    # The shape (the member's tags).
    "account.move.line.analytic_distribution",
    # Numbers that follow on from the copied invoice's: the same prefix, no gap.
    "account.move.sequence_prefix",
    "account.move.made_sequence_gap",
}
# The modules whose overrides of what making an invoice runs are known to do nothing a copy
# misses (fee splits are recorded for copies as for Odoo's invoices). Any other module's override
# sends every invoice back to Odoo's path, where it runs.
COPY_KNOWN_OVERRIDES = {
    ("account.move", "create"): {"account", "mail"},
    ("account.move", "_post"): {"account", "membook_membership", "collection_connector"},
    ("account.move.line", "create"): {"account", "analytic", "membership"},
    ("membership.membership_line", "create"): set(),
}
# The tables a copy writes, in order; each row of the invoice Odoo made in them is copied once per
# member, with references to the member, the invoice and its items mapped to the copy's.
COPY_TABLES = (
    "account_move",
    "account_move_line",
    "membership_membership_line",
)


class FeeLineAmountMismatch(Exception):
    """Odoo's subtotal of an invoice line differs from the amount booked on it."""


class AccountMove(models.Model):
    _inherit = "account.move"

    membook_billing_run_id = fields.Many2one(
        "membook.billing.run", string="Billing run", index="btree_not_null", copy=False
    )
    membook_split_ids = fields.One2many("membook.fee.split", "move_id", string="Fee split")
    membook_reference_key = fields.Char(
        string="Reference key",
        compute="_compute_membook_reference_key",
        store=True,
        index="btree_not_null",
        help="The payment reference as bank payments are matched: no spaces or leading zeros, an "
        "RF reference around a Finnish one reduced to the Finnish one.",
    )

    # What the fee invoice e-mail shows, in the language it is rendered in (see
    # mail_allowed_qweb_expressions).
    membook_mail_amount = fields.Char(
        string="E-mail amount", compute="_compute_membook_mail_values"
    )
    membook_mail_due = fields.Char(string="E-mail due date", compute="_compute_membook_mail_values")
    membook_mail_pay_link = fields.Html(
        string="E-mail payment link", compute="_compute_membook_mail_values", sanitize=False
    )

    # Odoo computes payment_reference at posting without declared dependencies, so a field
    # depending on it alone is never recomputed then: depend on what posting changes too.
    @api.depends("payment_reference", "move_type", "state", "name")
    def _compute_membook_reference_key(self):
        for move in self:
            move.membook_reference_key = (
                normalise_for_matching(move.payment_reference or "") or False
                if move.move_type == "out_invoice"
                else False
            )

    @api.depends_context("lang")
    @api.depends("amount_total", "currency_id", "invoice_date_due", "access_token")
    def _compute_membook_mail_values(self):
        for move in self:
            move.membook_mail_amount = format_amount(self.env, move.amount_total, move.currency_id)
            move.membook_mail_due = format_date(self.env, move.invoice_date_due)
            move.membook_mail_pay_link = Markup(
                '<a href="%s" style="background-color: #2E6F95; padding: 8px 16px; color: #fff;'
                ' border-radius: 4px; text-decoration: none;">%s</a>'
            ) % (move.get_base_url() + move.get_portal_url(), self.env._("View and pay online"))

    def mail_allowed_qweb_expressions(self):
        # The placeholders of the fee invoice e-mail: plain values, which Odoo fills in without
        # evaluating the body as code for every invoice (_render_template_qweb_regex).
        return (
            *super().mail_allowed_qweb_expressions(),
            "object.payment_reference",
            "object.membook_mail_amount",
            "object.membook_mail_due",
            "object.membook_mail_pay_link",
        )

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted.filtered(lambda move: move.move_type == "out_invoice")._membook_record_splits()
        return posted

    def _membook_mark_sent(self):
        """Mark these invoices sent, as Odoo does on sending them, in one statement.

        Written through the ORM, each invoice goes through Odoo's resynchronisation of its
        lines, which costs more than rendering its e-mail; the ORM still recomputes whatever
        depends on the flag.
        """
        self.flush_recordset(["is_move_sent"])
        self.env.cr.execute(
            SQL(
                "UPDATE account_move SET is_move_sent = TRUE, write_uid = %s, write_date = %s"
                " WHERE id = ANY(%s)",
                self.env.uid,
                self.env.cr.now(),
                self.ids,
            )
        )
        self.invalidate_recordset(["is_move_sent", "write_uid", "write_date"])
        self.modified(["is_move_sent"])

    def _membook_check_fee_line_amounts(self):
        """Raise FeeLineAmountMismatch unless every untaxed product line of these customer
        invoices books its subtotal (in the company currency too, when it is the invoice's).

        Odoo keeps the amounts given on creating an untaxed invoice line: the billing run gives
        them to save Odoo writing every line again, and checks them here against Odoo's own
        subtotal.
        """
        for line in self.filtered(lambda m: m.move_type == "out_invoice").invoice_line_ids:
            if line.display_type != "product" or line.tax_ids:
                continue
            if line.currency_id.compare_amounts(line.amount_currency, -line.price_subtotal) or (
                line.currency_id == line.company_currency_id
                and line.company_currency_id.compare_amounts(line.balance, line.amount_currency)
            ):
                raise FeeLineAmountMismatch(line.move_id.display_name)

    def _membook_record_splits(self):
        """Record the split of every fee line that has split rules and no split yet.

        Runs as superuser: the rules and the hierarchy are configuration that whoever posts an
        invoice (an accountant, the billing cron) applies but need not be able to read.
        """
        lines = self.sudo().invoice_line_ids.filtered(
            lambda line: line.product_id.membook_split_rule_ids and not line.membook_split_ids
        )
        if not lines:
            return
        levels = self.env["product.template"].sudo()._membook_levels()
        # The members of one club share their split: resolve it once per fee, club and amount.
        splits = {}
        vals_list = []
        for line in lines:
            key = (
                line.product_id.product_tmpl_id,
                line.partner_id.member_organisation_id,
                Decimal(str(line.price_total)).quantize(CENT),
            )
            if key not in splits:
                splits[key] = key[0]._membook_resolve_split(key[1], key[2], levels)
            parts = splits[key]
            vals_list += [
                {
                    "move_line_id": line.id,
                    "move_id": line.move_id.id,
                    "company_id": line.company_id.id,
                    "product_id": line.product_id.id,
                    "sequence": index,
                    "organisation_id": organisation.id,
                    "amount": float(from_cents(cents)),
                }
                for index, (organisation, cents) in enumerate(parts)
            ]
        # Plain rows nothing depends on as they are created: one COPY for the whole batch (a
        # billing run records three a member).
        insert_rows(self.env["membook.fee.split"].sudo(), vals_list)
        lines.invalidate_recordset(["membook_split_ids"])
        self.invalidate_recordset(["membook_split_ids"])

    # ------------------------------------------------------------------
    # Billing runs: copies of an invoice Odoo made
    # ------------------------------------------------------------------
    @api.model
    def _membook_copy_blocker(self):
        """Why no invoice can be copied with the modules installed (then Odoo makes each), or
        None. Checks the registry against what the copy knows (COPY_KNOWN_*)."""
        env = self.env
        dependents = (
            stored_dependents(
                env,
                self._name,
                [
                    "partner_id",
                    "commercial_partner_id",
                    "partner_shipping_id",
                    "name",
                    "payment_reference",
                    "access_token",
                ],
            )
            | stored_dependents(env, "account.move.line", ["partner_id", "name"])
            | stored_dependents(env, "res.partner", list(env["res.partner"]._fields))
        )
        copied = {
            dependent
            for dependent in dependents
            if dependent.rsplit(".", 1)[0] in ("account.move", "account.move.line")
        }
        if unknown := copied - COPY_KNOWN_DEPENDENTS:
            return f"stored fields depend on the member: {', '.join(sorted(unknown))}"
        for (model, method), known in COPY_KNOWN_OVERRIDES.items():
            for module in overriding_modules(env, model, method):
                if module not in known:
                    return f"{module} overrides {model}.{method}"
        return None

    def _membook_copy_check(self):
        """Whether this invoice, just made and posted by Odoo, can be copied to other members:
        None, or why not."""
        self.ensure_one()
        if self.state != "posted" or self.payment_state != "not_paid":
            return "not an open posted invoice"
        if self.journal_id.restrict_mode_hash_table:
            return "the journal secures its entries with a hash"
        cr = self.env.cr
        self.env.flush_all()
        # Billing runs make invoices without chatter: a module that adds some is not copied.
        for table, model in (
            ("mail_message", "model"),
            ("mail_followers", "res_model"),
            ("mail_activity", "res_model"),
            ("ir_attachment", "res_model"),
        ):
            cr.execute(
                SQL(
                    "SELECT 1 FROM %s WHERE %s = 'account.move' AND res_id = %s LIMIT 1",
                    SQL.identifier(table),
                    SQL.identifier(model),
                    self.id,
                )
            )
            if cr.rowcount:
                return f"it has records in {table}"
        cr.execute(
            "SELECT 1 FROM account_analytic_line WHERE move_line_id = ANY(%s) LIMIT 1",
            [self.line_ids.ids],
        )
        if cr.rowcount:
            return "it has analytic lines"
        # A copy writes the member, the number and the reference where it knows them; any other
        # column holding one of them would keep this invoice's.
        texts = {
            value
            for value in (self.name, self.payment_reference, self.partner_id.name)
            if value and len(value) > 2
        }
        allowed = {
            "account_move": {
                "name",
                "payment_reference",
                "membook_reference_key",
                "invoice_partner_display_name",
            },
            "account_move_line": {"move_name", "name"},
        }
        for table, ids in (("account_move", self.ids), ("account_move_line", self.line_ids.ids)):
            cr.execute(SQL("SELECT * FROM %s WHERE id = ANY(%s)", SQL.identifier(table), ids))
            columns = [desc.name for desc in cr.description]
            for row in cr.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if column in allowed[table] or not isinstance(value, str | dict):
                        continue
                    if any(text in str(value) for text in texts):
                        return f"{table}.{column} holds the member or the number"
        return None

    def _membook_copy_invoices(self, partners, access_tokens):
        """Copy this invoice, made and posted by Odoo for one member, to each of ``partners``
        (members of the same shape, see membook.billing.run.line._copy_shape) with its portal
        token; return the copies in that order, posted and numbered after this invoice.

        Each row this invoice has in COPY_TABLES is copied in SQL, with references to the
        member, the invoice and its items mapped to the copy's, and the member's name, the number
        and the payment reference written for each; what depends on them elsewhere (the members'
        membership state) is recomputed by the ORM, as after Odoo's create, and fee splits are
        recorded as at posting. Returns None, having written nothing, when this invoice's number
        is not held by this transaction.
        """
        self.ensure_one()
        count = len(partners)
        if not count:
            return self.browse()
        cr = self.env.cr
        self.env.flush_all()
        # Numbers: Odoo numbered this invoice holding the journal's sequence until commit, and
        # keeps the last number it gave in the transaction's sequence cache: go on from there.
        format_string, format_values = self._get_sequence_format_param(self.name)
        format_values.pop("seq")
        key = (format_string.format(**format_values, seq=0), self[self._sequence_index])
        cache = self._get_sequence_cache()
        if key not in cache:
            return None
        first = cache[key] + 1
        cache[key] += count
        names = [format_string.format(**format_values, seq=first + n) for n in range(count)]

        cr.execute(
            """
            CREATE TEMP TABLE IF NOT EXISTS membook_copy_map (
                copy_no integer, kind varchar, old_id integer, new_id integer
            ) ON COMMIT DELETE ROWS;
            CREATE INDEX IF NOT EXISTS membook_copy_map_lookup
                ON membook_copy_map (kind, copy_no, old_id);
            CREATE TEMP TABLE IF NOT EXISTS membook_copy_values (
                copy_no integer PRIMARY KEY, move_id integer, partner_id integer,
                name varchar, sequence_number integer, access_token varchar,
                display_name varchar, reference varchar
            ) ON COMMIT DELETE ROWS;
            TRUNCATE membook_copy_map, membook_copy_values;
            """
        )
        proto_rows = {
            "account_move": self.ids,
            "account_move_line": self.line_ids.ids,
            "membership_membership_line": self.env["membership.membership_line"]
            .sudo()
            .search([("account_invoice_line_id", "in", self.line_ids.ids)])
            .ids,
        }
        new_ids = {
            table: next_ids(cr, table, count * len(ids)) for table, ids in proto_rows.items()
        }
        move_ids = new_ids["account_move"]
        mapping = [(n, "res_partner", self.partner_id.id, p.id) for n, p in enumerate(partners)]
        for table, ids in proto_rows.items():
            fresh = iter(new_ids[table])
            mapping += [(n, table, old, next(fresh)) for n in range(count) for old in ids]
        cr.execute_values(
            "INSERT INTO membook_copy_map (copy_no, kind, old_id, new_id) VALUES %s",
            mapping,
            page_size=5000,
        )
        cr.execute_values(
            "INSERT INTO membook_copy_values (copy_no, move_id, partner_id, name,"
            " sequence_number, access_token, display_name) VALUES %s",
            [
                (n, move_ids[n], partner.id, names[n], first + n, token, partner.display_name)
                for n, (partner, token) in enumerate(zip(partners, access_tokens, strict=True))
            ],
            page_size=5000,
        )
        cr.execute("ANALYZE membook_copy_map")
        written = {
            "account_move": {
                "name": SQL("v.name"),
                "sequence_number": SQL("v.sequence_number"),
                "access_token": SQL("v.access_token"),
                "invoice_partner_display_name": SQL("v.display_name"),
                "payment_reference": SQL("NULL"),
                "membook_reference_key": SQL("NULL"),
            },
            "account_move_line": {"move_name": SQL("v.name")},
        }
        self._membook_copy_table("account_move", written["account_move"])
        # The payment reference as Odoo computes it at posting: from the number, the member...
        copies = self.browse(move_ids)
        references = {}
        if self.payment_reference:
            references = {move.id: move._get_invoice_computed_reference() for move in copies}
            cr.execute_values(
                "UPDATE membook_copy_values v SET reference = r.reference"
                " FROM (VALUES %s) AS r(move_id, reference) WHERE v.move_id = r.move_id",
                list(references.items()),
                page_size=5000,
            )
            written["account_move_line"]["name"] = SQL(
                "CASE WHEN strpos(p.name, %(old)s) > 0 THEN replace(p.name, %(old)s, v.reference)"
                " ELSE p.name END",
                old=self.payment_reference,
            )
        for table in COPY_TABLES[1:]:
            self._membook_copy_table(table, written.get(table, {}))
        if references:
            cr.execute_values(
                "UPDATE account_move m SET payment_reference = r.reference,"
                " membook_reference_key = r.key"
                " FROM (VALUES %s) AS r(id, reference, key) WHERE m.id = r.id",
                [
                    (move_id, reference, normalise_for_matching(reference) or None)
                    for move_id, reference in references.items()
                ],
                page_size=5000,
            )
        self.env.invalidate_all()
        # What depends on the new rows elsewhere (the members' membership state...), as Odoo's
        # create marks it; not the copies' own fields, copied as Odoo computed them.
        created = [
            self.env[model].browse(new_ids[self.env[model]._table])
            for model in ("account.move", "account.move.line", "membership.membership_line")
        ]
        with self.env.protecting(
            [(list(records._fields.values()), records) for records in created]
        ):
            for records in created:
                records.modified(list(records._fields), create=True)
            self.env.flush_all()
        # The customer rank, as Odoo's posting raises it (_increase_rank): members at 0 now, in
        # one write rather than one each; the others after commit, as Odoo does.
        first_time = partners.sudo().filtered(lambda partner: not partner.customer_rank)
        first_time.write({"customer_rank": 1})
        (partners - first_time)._increase_rank("customer_rank")
        copies._membook_record_splits()
        return copies

    @api.model
    @tools.ormcache("table")
    def _membook_copy_layout(self, table):
        """(columns, ((column, mapped table it references), ...)) of ``table``, as a copy
        writes it; read from the database once per registry, not once per copy."""
        cr = self.env.cr
        cr.execute(
            """
            SELECT a.attname, c.confrelid::regclass::text
              FROM pg_constraint c
              JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
             WHERE c.contype = 'f' AND c.conrelid = %s::regclass
               AND array_length(c.conkey, 1) = 1
            """,
            [table],
        )
        mapped = {"res_partner", *COPY_TABLES}
        references = tuple((column, target) for column, target in cr.fetchall() if target in mapped)
        cr.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
            [table],
        )
        return tuple(row[0] for row in cr.fetchall()), references

    def _membook_copy_table(self, table, written):
        """Copy the rows of ``table`` listed in membook_copy_map, one per copy: ``written``
        gives the columns written for each copy (from membook_copy_values ``v`` and the copied
        row ``p``); references to a mapped table (the member, the invoice, its items...) follow
        the map; every other column is copied."""
        columns, references = self._membook_copy_layout(table)
        references = dict(references)
        values = []
        for column in columns:
            if column == "id":
                values.append(SQL("m.new_id"))
            elif column in written:
                values.append(written[column])
            elif column in references:
                values.append(
                    SQL(
                        "COALESCE((SELECT x.new_id FROM membook_copy_map x"
                        " WHERE x.kind = %s AND x.copy_no = m.copy_no AND x.old_id = p.%s),"
                        " p.%s)",
                        references[column],
                        SQL.identifier(column),
                        SQL.identifier(column),
                    )
                )
            else:
                values.append(SQL("p.%s", SQL.identifier(column)))
        self.env.cr.execute(
            SQL(
                "INSERT INTO %s (%s) SELECT %s FROM membook_copy_map m"
                " JOIN %s p ON p.id = m.old_id JOIN membook_copy_values v ON v.copy_no = m.copy_no"
                " WHERE m.kind = %s ORDER BY m.new_id",
                SQL.identifier(table),
                SQL(", ").join(SQL.identifier(column) for column in columns),
                SQL(", ").join(values),
                SQL.identifier(table),
                table,
            )
        )

    @api.model
    def _membook_allocate_many(self, items):
        """Allocate amounts paid on invoices to the beneficiaries of their fees.

        ``items`` is ``[(invoice, amount Decimal, date, bank payment or None)]``, in payment
        order (an invoice may appear more than once). Each amount goes first over the invoice's
        fee lines, pro rata to what each still has due, then over each line's recorded split;
        lines without a split stay with the operator. What was allocated before counts as paid.
        Three reads and one insert for the whole batch, whatever its size (a bank day books tens
        of thousands). Returns the allocations created.
        """
        Allocation = self.env["membook.allocation"].sudo()
        invoice_ids = list({invoice.id for invoice, *_rest in items})
        if not invoice_ids:
            return Allocation
        for model in ("account.move", "account.move.line", "membook.fee.split", Allocation._name):
            self.env[model].flush_model()
        cr = self.env.cr
        before_line, before_target = {}, {}  # cents by line id / by (line id, beneficiary)
        cr.execute(
            "SELECT move_line_id, organisation_id, amount FROM membook_allocation"
            " WHERE invoice_id = ANY(%s)",
            [invoice_ids],
        )
        for line_id, organisation_id, amount in cr.fetchall():
            cents = _cents(amount)
            before_line[line_id] = before_line.get(line_id, 0) + cents
            key = (line_id, organisation_id or 0)
            before_target[key] = before_target.get(key, 0) + cents
        cr.execute(
            """
            SELECT line.id, line.move_id, line.product_id, line.price_total, move.company_id
              FROM account_move_line line
              JOIN account_move move ON move.id = line.move_id
             WHERE line.move_id = ANY(%s) AND line.display_type = 'product'
               AND line.price_total > 0
             ORDER BY line.id
            """,
            [invoice_ids],
        )
        fee_lines, company_of = {}, {}  # fee lines by invoice id; company by invoice id
        product_of = {}
        for line_id, move_id, product_id, price_total, company_id in cr.fetchall():
            fee_lines.setdefault(move_id, []).append(AllocationLine(line_id, _cents(price_total)))
            company_of[move_id] = company_id
            product_of[line_id] = product_id
        cr.execute(
            "SELECT move_line_id, organisation_id, amount FROM membook_fee_split"
            " WHERE move_line_id = ANY(%s) ORDER BY move_line_id, sequence, id",
            [list(product_of)],
        )
        splits = {}
        for line_id, organisation_id, amount in cr.fetchall():
            splits.setdefault(line_id, []).append(
                AllocationLine(organisation_id or 0, _cents(amount))
            )
        today = fields.Date.context_today(self)
        vals_list = []
        for invoice, amount, date, bank_payment in items:
            line_targets = fee_lines.get(invoice.id)
            if not line_targets or amount <= 0:
                continue
            paid_before = {t.beneficiary: before_line.get(t.beneficiary, 0) for t in line_targets}
            due = sum(t.cents for t in line_targets) - sum(paid_before.values())
            cents = min(to_cents(amount), max(due, 0))
            if not cents:
                continue
            line_cents = {t.beneficiary: t.cents for t in line_targets}
            for part in allocation.allocate(cents, line_targets, paid_before):
                line_id = part.beneficiary
                targets = splits.get(line_id) or [AllocationLine(0, line_cents[line_id])]
                before = {
                    t.beneficiary: before_target.get((line_id, t.beneficiary), 0) for t in targets
                }
                for share in allocation.allocate(part.cents, targets, before):
                    before_line[line_id] = before_line.get(line_id, 0) + share.cents
                    key = (line_id, share.beneficiary)
                    before_target[key] = before_target.get(key, 0) + share.cents
                    vals_list.append(
                        {
                            "company_id": company_of[invoice.id],
                            "date": date or today,
                            "organisation_id": share.beneficiary or None,
                            "product_id": product_of[line_id],
                            "amount": float(from_cents(share.cents)),
                            "invoice_id": invoice.id,
                            "move_line_id": line_id,
                            "bank_payment_id": bank_payment.id if bank_payment else None,
                        }
                    )
        return insert_rows(Allocation, vals_list)
