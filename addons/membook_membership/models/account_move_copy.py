# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The invoice-copy engine of billing runs.

Billing runs let Odoo make one invoice per shape of member (see membook.billing.run.line's
_copy_shape) and copy it in SQL to the other members of that shape: this file holds what decides
whether a copy may be made and the copy itself. The golden test (tests/test_billing_copy.py)
compares the copies with what Odoo makes, row for row, in every table.
"""

from odoo import api, models, tools
from odoo.tools import SQL

from nordic_billing.references import normalise_for_matching

from .batching import VALUES_ROWS, execute_values, next_ids
from .registry_checks import overriding_modules, stored_dependents

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
# sends every invoice back to Odoo's path, where it runs; a module whose override does nothing a
# copy misses says so by extending account.move's _membook_copy_known_overrides.
COPY_KNOWN_OVERRIDES = {
    ("account.move", "create"): {"account", "mail"},
    ("account.move", "_post"): {"account", "membook_membership"},
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


class AccountMove(models.Model):
    _inherit = "account.move"

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
        for (model, method), known in self._membook_copy_known_overrides().items():
            for module in overriding_modules(env, model, method):
                if module not in known:
                    return f"{module} overrides {model}.{method}"
        return None

    def _membook_copy_known_overrides(self):
        """{(model, method): modules} whose overrides a copy of an invoice knows (see
        COPY_KNOWN_OVERRIDES). A hook: an addon that overrides one of these methods in a way a
        copy needs not repeat extends it, calling super() the same tolerant way, as it may be
        installed without this one."""
        parent = getattr(super(), "_membook_copy_known_overrides", None)
        known = parent() if parent else {}
        for key, modules in COPY_KNOWN_OVERRIDES.items():
            known[key] = known.get(key, set()) | modules
        return known

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
            SQL(
                "SELECT 1 FROM account_analytic_line WHERE move_line_id = ANY(%s) LIMIT 1",
                self.line_ids.ids,
            )
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
            SQL(
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
        execute_values(
            cr,
            SQL(
                "INSERT INTO membook_copy_map (copy_no, kind, old_id, new_id) VALUES %s",
                VALUES_ROWS,
            ),
            mapping,
            page_size=5000,
        )
        execute_values(
            cr,
            SQL(
                "INSERT INTO membook_copy_values (copy_no, move_id, partner_id, name,"
                " sequence_number, access_token, display_name) VALUES %s",
                VALUES_ROWS,
            ),
            [
                (n, move_ids[n], partner.id, names[n], first + n, token, partner.display_name)
                for n, (partner, token) in enumerate(zip(partners, access_tokens, strict=True))
            ],
            page_size=5000,
        )
        cr.execute(SQL("ANALYZE membook_copy_map"))
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
            execute_values(
                cr,
                SQL(
                    "UPDATE membook_copy_values v SET reference = r.reference"
                    " FROM (VALUES %s) AS r(move_id, reference) WHERE v.move_id = r.move_id",
                    VALUES_ROWS,
                ),
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
            execute_values(
                cr,
                SQL(
                    "UPDATE account_move m SET payment_reference = r.reference,"
                    " membook_reference_key = r.key"
                    " FROM (VALUES %s) AS r(id, reference, key) WHERE m.id = r.id",
                    VALUES_ROWS,
                ),
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
            SQL(
                """
            SELECT a.attname, c.confrelid::regclass::text
              FROM pg_constraint c
              JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
             WHERE c.contype = 'f' AND c.conrelid = %s::regclass
               AND array_length(c.conkey, 1) = 1
            """,
                table,
            )
        )
        mapped = {"res_partner", *COPY_TABLES}
        references = tuple((column, target) for column, target in cr.fetchall() if target in mapped)
        cr.execute(
            SQL(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = %s"
                " ORDER BY ordinal_position",
                table,
            )
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
