# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from unittest.mock import patch

import psycopg2

from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.membook_membership.models import account_move_copy as copy_engine
from odoo.addons.membook_membership.models import membook_billing_run as billing_run_module
from odoo.addons.membook_membership.models.account_move_copy import AccountMove
from odoo.addons.membook_membership.models.registry_checks import (
    fast_paths_off,
    overriding_modules,
)

from .common import MembookBillingCommon

# Columns that differ between two members' invoices whatever the path: the record's own id, the
# invoice's number (checked apart, with the whole numbering), and the time of the transaction
# that wrote the row (the two runs commit apart); every other one is compared, mapped.
NOT_COMPARED = {
    "id",
    "sequence_number",
    "create_date",
    "write_date",
}


@tagged("post_install", "-at_install")
class TestBillingCopy(MembookBillingCommon):
    """Billing runs let Odoo make one invoice per shape of member and copy it in SQL to the
    others: the copies must be what Odoo makes, row for row, in every table."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fi_FI")
        cls.term_30 = cls.env.ref("account.account_payment_term_30days")
        Partner = cls.env["res.partner"]
        # Twins: the same shape of member twice, once billed by Odoo alone, once with copies.
        shapes = [
            {},
            {},
            {},
            {"lang": "fi_FI"},
            {"lang": "fi_FI"},
            {"property_payment_term_id": cls.term_30.id},
            {"property_payment_term_id": cls.term_30.id},
        ]
        cls.twins = []
        for number, shape in enumerate(shapes):
            pair = Partner.create(
                [
                    {
                        "name": f"{side} member {number}",
                        "email": f"{side.lower()}{number}@example.com",
                        "is_member": True,
                        "member_organisation_id": (cls.club if number % 2 else cls.district).id,
                        **shape,
                    }
                    for side in ("Odoo", "Copy")
                ]
            )
            cls.twins.append(pair)
        # A member with a contact: Odoo makes that invoice, never a copy.
        cls.family = Partner.create(
            [
                {"name": f"{side} family", "is_member": True, "member_organisation_id": cls.club.id}
                for side in ("Odoo", "Copy")
            ]
        )
        for family in cls.family:
            Partner.create({"name": f"{family.name} child", "parent_id": family.id})

    def _bill(self, side, copy=True):
        members = self.env["res.partner"].browse(
            [pair[side].id for pair in self.twins] + [self.family[side].id]
        )
        run = self._run(name="Fees", member_domain=f"[('id', 'in', {members.ids})]")
        run.action_start()
        counts = self._table_counts()
        before = {row["id"]: row for row in self._rows("res_partner", "id = ANY(%s)", members.ids)}
        copied = []
        original = AccountMove._membook_copy_invoices

        def spy(move, partners, tokens):
            copies = original(move, partners, tokens)
            copied.extend(copies or [])
            return copies

        with patch.object(AccountMove, "_membook_copy_invoices", spy):
            if copy:
                self._process_runs()
            else:
                with patch.object(
                    AccountMove, "_membook_copy_blocker", lambda model: "Odoo makes each"
                ):
                    self._process_runs()
        self.assertEqual(run.state, "done")
        self.env.flush_all()
        added = {
            table: count - counts.get(table, 0)
            for table, count in self._table_counts().items()
            if count != counts.get(table, 0)
        }
        # What billing changed on each member (its membership state, customer rank...).
        changes = {
            row["id"]: {
                column: value
                for column, value in row.items()
                if value != before[row["id"]][column] and column not in NOT_COMPARED
            }
            for row in self._rows("res_partner", "id = ANY(%s)", members.ids)
        }
        return run, members, copied, added, changes

    def _table_counts(self):
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
        counts = {}
        for (table,) in cr.fetchall():
            cr.execute(SQL("SELECT count(*) FROM %s", SQL.identifier(table)))
            counts[table] = cr.fetchone()[0]
        return counts

    def _rows(self, table, where, *params):
        self.env.cr.execute(
            SQL("SELECT * FROM %s WHERE %s ORDER BY id", SQL.identifier(table), SQL(where, *params))
        )
        columns = [desc.name for desc in self.env.cr.description]
        return [dict(zip(columns, row, strict=True)) for row in self.env.cr.fetchall()]

    def _invoice_rows(self, move):
        """Every row the invoice has: itself, its items, membership lines and fee splits."""
        lines = self._rows("account_move_line", "move_id = %s", move.id)
        line_ids = [line["id"] for line in lines]
        return {
            "account_move": self._rows("account_move", "id = %s", move.id),
            "account_move_line": lines,
            "membership_membership_line": self._rows(
                "membership_membership_line", "account_invoice_line_id = ANY(%s)", line_ids
            ),
            "membook_fee_split": self._rows("membook_fee_split", "move_id = %s", move.id),
        }

    def _references(self, table):
        """{column: table it references} of ``table``'s foreign keys."""
        self.env.cr.execute(
            """
            SELECT a.attname, c.confrelid::regclass::text
              FROM pg_constraint c
              JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
             WHERE c.contype = 'f' AND c.conrelid = %s::regclass
            """,
            [table],
        )
        return dict(self.env.cr.fetchall())

    def _compare(self, odoo_rows, copy_rows, copy_move, runs):
        """Every column of the Odoo-made invoice's rows equals the copy's, once references to
        the invoice, its items and member, and the member's name, the number, the
        payment reference and the portal token are mapped to the copy's."""
        odoo_move = odoo_rows["account_move"][0]
        mapping = {
            ("membook_billing_run", runs[0].id): runs[1].id,
            ("res_partner", odoo_move["partner_id"]): copy_move.partner_id.id,
        }
        for table in ("account_move", "account_move_line"):
            for odoo_row, copy_row in zip(odoo_rows[table], copy_rows[table], strict=True):
                mapping[(table, odoo_row["id"])] = copy_row["id"]
        texts = {
            odoo_move["name"]: copy_move.name,
            odoo_move["payment_reference"]: copy_move.payment_reference,
            odoo_move["membook_reference_key"]: copy_move.membook_reference_key,
            odoo_move["access_token"]: copy_move.access_token,
            odoo_move["invoice_partner_display_name"]: copy_move.partner_id.name,
        }
        references = {table: self._references(table) for table in odoo_rows}
        for table, odoo_table_rows in odoo_rows.items():
            copy_table_rows = copy_rows[table]
            self.assertEqual(len(odoo_table_rows), len(copy_table_rows), table)
            for odoo_row, copy_row in zip(odoo_table_rows, copy_table_rows, strict=True):
                for column, value in odoo_row.items():
                    if column in NOT_COMPARED:
                        continue
                    if column in references[table]:
                        value = mapping.get((references[table][column], value), value)
                    elif isinstance(value, str):
                        for old, new in texts.items():
                            if old and new:
                                value = value.replace(old, new)
                    self.assertEqual(copy_row[column], value, f"{table}.{column}")

    def test_copies_are_what_odoo_makes(self):
        odoo_run, _members, copied_by_odoo, odoo_added, odoo_changes = self._bill(0, copy=False)
        self.assertFalse(copied_by_odoo)
        copy_run, _members, copied, copy_added, copy_changes = self._bill(1)
        # Odoo made one invoice per shape (plain, Finnish, 30 days) and the family's; the
        # other four are copies.
        self.assertEqual(len(copied), 4)
        self.assertNotIn(self.family[1], self.env["account.move"].concat(*copied).partner_id)
        # The same rows, in every table of the database.
        self.assertEqual(copy_added, odoo_added)
        odoo_invoices = {line.partner_id.name[5:]: line.move_id for line in odoo_run.line_ids}
        copy_invoices = {line.partner_id.name[5:]: line.move_id for line in copy_run.line_ids}
        self.assertEqual(set(odoo_invoices), set(copy_invoices))
        for key, copy_move in copy_invoices.items():
            with self.subTest(member=key):
                self._compare(
                    self._invoice_rows(odoo_invoices[key]),
                    self._invoice_rows(copy_move),
                    copy_move,
                    (odoo_run, copy_run),
                )
                self.assertEqual(
                    copy_move.payment_reference, copy_move._get_invoice_computed_reference()
                )
                odoo_partner = odoo_invoices[key].partner_id.id
                self.assertEqual(
                    copy_changes[copy_move.partner_id.id],
                    {
                        column: copy_move.partner_id.id if value == odoo_partner else value
                        for column, value in odoo_changes[odoo_partner].items()
                    },
                )
                self.assertIn("customer_rank", copy_changes[copy_move.partner_id.id])
                self.assertIn("membership_state", copy_changes[copy_move.partner_id.id])
        # Numbers follow on, without gaps, in the order of the invoices.
        moves = (odoo_run | copy_run).line_ids.move_id.sorted("id")
        numbers = moves.mapped("sequence_number")
        self.assertEqual(numbers, list(range(numbers[0], numbers[0] + len(moves))))
        self.assertEqual(len(set(moves.mapped("sequence_prefix"))), 1)
        # Odoo goes on numbering from the copies.
        after = self.init_invoice(
            "out_invoice", amounts=[10.0], invoice_date=copy_run.invoice_date, post=True
        )
        self.assertEqual(after.sequence_number, numbers[-1] + 1)

    def _bill_all(self, side):
        members = self.env["res.partner"].browse([pair[side].id for pair in self.twins])
        run = self._run(name="Fees", member_domain=f"[('id', 'in', {members.ids})]")
        run.action_start()
        return run, members

    def test_switched_off_odoo_makes_every_invoice_and_says_so(self):
        self.env["ir.config_parameter"].sudo().set_param("membook_membership.sql_fast_paths", "off")
        self.assertIn("sql_fast_paths", fast_paths_off(self.env))
        run, members = self._bill_all(1)
        logger = billing_run_module._logger
        with (
            patch.object(AccountMove, "_membook_copy_invoices") as copy,
            patch.object(logger, "info", wraps=logger.info) as info,
        ):
            self._process_runs()
        copy.assert_not_called()
        self.assertEqual(run.state, "done")
        self.assertEqual(run.line_ids.move_id.partner_id, members)
        self.assertIn("membook_membership.sql_fast_paths", run.fast_path_note)
        logged = [call.args[-1] for call in info.call_args_list]
        self.assertTrue(any("turns the SQL fast paths off" in str(m) for m in logged), logged)

    def test_failing_copy_is_undone_and_odoo_makes_the_batch(self):
        run, members = self._bill_all(1)
        original = AccountMove._membook_copy_invoices
        calls = []

        def half_then_fail(move, partners, tokens):
            calls.append(original(move, partners, tokens))  # rows written, then the failure
            raise psycopg2.errors.DataError("forced failure of the SQL copy")

        logger = billing_run_module._logger
        with (
            patch.object(AccountMove, "_membook_copy_invoices", half_then_fail),
            patch.object(logger, "warning") as warning,
        ):
            self._process_runs()
        self.assertTrue(calls, "the copy ran and wrote before failing")
        self.assertIn("forced failure", str(warning.call_args.args[-1]))
        self.assertEqual(run.state, "done")
        self.assertEqual(set(run.line_ids.mapped("state")) - {"sent", "no_email"}, set())
        moves = run.line_ids.move_id
        self.assertEqual(moves.partner_id, members)
        self.assertEqual(set(moves.mapped("state")), {"posted"})
        # Nothing of the undone copies is left: one invoice per member, numbers without gaps.
        self.assertEqual(
            self.env["account.move"].search_count([("partner_id", "in", members.ids)]),
            len(members),
        )
        numbers = moves.sorted("id").mapped("sequence_number")
        self.assertEqual(numbers, list(range(numbers[0], numbers[0] + len(moves))))
        self.assertIn("forced failure", run.fast_path_note)

    def test_unknown_member_dependent_field_sends_invoices_to_odoo(self):
        Move = self.env["account.move"]
        self.assertIsNone(Move._membook_copy_blocker())
        known = copy_engine.COPY_KNOWN_DEPENDENTS - {"account.move.narration"}
        with patch.object(copy_engine, "COPY_KNOWN_DEPENDENTS", known):
            self.assertIn("account.move.narration", Move._membook_copy_blocker())
            run, members, copied, _added, _changes = self._bill(1)
        self.assertFalse(copied)
        self.assertEqual(run.line_ids.move_id.partner_id, members)
        self.assertEqual(set(run.line_ids.move_id.mapped("state")), {"posted"})

    def test_unknown_override_sends_invoices_to_odoo(self):
        # What the addons installed say they know, through the hook each extends.
        known = self.env["account.move"]._membook_copy_known_overrides()
        for module in overriding_modules(self.env, "account.move", "_post"):
            self.assertIn(module, known[("account.move", "_post")])
        overrides = dict(copy_engine.COPY_KNOWN_OVERRIDES)
        overrides[("account.move", "_post")] = {"account"}
        with (
            patch.object(copy_engine, "COPY_KNOWN_OVERRIDES", overrides),
            patch.object(
                type(self.env["account.move"]),
                "_membook_copy_known_overrides",
                lambda move: overrides,
            ),
        ):
            self.assertIn(
                "overrides account.move._post", self.env["account.move"]._membook_copy_blocker()
            )
            _run, _members, copied, _added, _changes = self._bill(1)
        self.assertFalse(copied)

    def test_invoice_with_a_message_is_not_copied(self):
        original = AccountMove._membook_copy_check

        def noted(move):
            move.message_post(body="A note a module wrote on posting")
            return original(move)

        with patch.object(AccountMove, "_membook_copy_check", noted):
            run, members, copied, _added, _changes = self._bill(1)
        self.assertFalse(copied)
        self.assertEqual(run.line_ids.move_id.partner_id, members)
