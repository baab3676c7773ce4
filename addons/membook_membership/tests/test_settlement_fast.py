# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime as dt
from unittest.mock import patch

import psycopg2

from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.membook_membership.models import membook_settlement_fast as fast_module
from odoo.addons.membook_membership.models.batching import insert_rows
from odoo.addons.membook_membership.models.membook_settlement_fast import MembookSettlementFast

from nordic_billing.references import FI

from .common import BooksMixin, MembookBillingCommon

DAY = dt.date(2026, 3, 2)
# Columns that differ between twins whatever the path: the row's own id, and for a settlement
# its number and the reference made from its id (both checked apart).
NOT_COMPARED = {"id", "name", "reference", "reference_key"}
BY_ID = SQL("id")


@tagged("post_install", "-at_install")
class TestSettlementFastPath(BooksMixin, MembookBillingCommon):
    """The weekly settlement in SQL (membook_settlement_fast.py) must write what Odoo's path
    writes, row for row: twin organisations with the same allocations are settled once by each
    path, and every table is compared."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_books()
        cls.Settlement = cls.env["membook.settlement"]
        cls.second_fee = cls.env["product.product"].create(
            {"name": "Course fee", "type": "service"}
        )
        Organisation = cls.env["membook.organisation"]
        cls.twins = {}
        for side in ("Odoo", "SQL"):
            organisations = Organisation.create(
                [
                    {"name": f"{side} club {number}", "level_id": cls.level_club.id}
                    for number in range(4)
                ]
            )
            for number, organisation in enumerate(organisations):
                organisation.settlement_bank_id = cls.env["res.partner.bank"].create(
                    {
                        "acc_number": f"FI21123456{number:04d}{len(cls.twins):04d}",
                        "partner_id": organisation.partner_id.id,
                    }
                )
            cls.twins[side] = organisations
        # Documents the allocations point to, shared by both sides.
        cls.invoices = [
            cls.init_invoice("out_invoice", partner=cls.member_a, amounts=[60.0], post=True)
            for _n in range(3)
        ]
        cls.payments = cls.env["account.move"].create([{"move_type": "entry"} for _n in range(2)])
        cls.bank_payments = cls.env["membook.bank.payment"].create(
            [{"journal_id": cls.bank_journal.id, "amount": 60.0} for _n in range(2)]
        )
        # Whatever the set-up leaves to book is booked before either side settles.
        cls.env["membook.ledger.booking"]._book_all(cls.env.company)

    def _allocations(self, side):
        """The week of one side: every shape of row a settlement meets."""
        org = self.twins[side]
        fee, course = self.fee.id, self.second_fee.id
        inv = [invoice.id for invoice in self.invoices]
        pay = [move.id for move in self.payments]
        bank = self.bank_payments.ids
        # An old settlement of club 1, paid out already: one of its rows is reversed this week.
        old = self.Settlement.create(
            {"company_id": self.env.company.id, "organisation_id": org[1].id, "date": DAY}
        )
        rows = [
            # club 0: two items of one payment (one payment), another payment of two
            # documents, bank payments, a row without product, a refund, a reversal of a
            # row of the same week (neither is a payment), a row after the day.
            (org[0], fee, 25.0, inv[0], pay[0], None, DAY - dt.timedelta(days=6)),
            (org[0], course, 5.0, inv[0], pay[0], None, DAY - dt.timedelta(days=6)),
            (org[0], fee, 12.5, inv[1], pay[1], None, DAY - dt.timedelta(days=5)),
            (org[0], fee, 12.5, inv[2], pay[1], None, DAY - dt.timedelta(days=5)),
            (org[0], fee, 25.0, inv[1], None, bank[0], DAY - dt.timedelta(days=4)),
            (org[0], fee, 25.0, inv[2], None, bank[0], DAY - dt.timedelta(days=4)),
            (org[0], fee, 10.0, inv[2], None, bank[1], DAY - dt.timedelta(days=3)),
            (org[0], None, 0.35, None, None, None, DAY - dt.timedelta(days=2)),
            (org[0], fee, -12.5, inv[1], pay[1], None, DAY - dt.timedelta(days=1)),
            (org[0], fee, 7.5, inv[2], pay[0], None, DAY - dt.timedelta(days=1)),
            (org[0], fee, 99.0, inv[0], pay[0], None, DAY + dt.timedelta(days=1)),
            # club 1: one payment, and the reversal of a row settled before.
            (org[1], fee, 30.0, inv[0], pay[1], None, DAY),
            # club 2: only a reversal: nothing to settle.
            (org[2], fee, -10.0, inv[1], pay[0], None, DAY),
            # club 3: settled to zero (a payment and its refund): nothing to settle.
            (org[3], fee, 10.0, inv[1], pay[0], None, DAY),
            (org[3], fee, -10.0, inv[1], pay[0], None, DAY),
            # The operator's own share.
            (self.env["membook.organisation"], fee, 3.0, inv[0], pay[0], None, DAY),
        ]
        vals = [
            {
                "company_id": self.env.company.id,
                "date": date,
                "organisation_id": organisation.id or None,
                "product_id": product,
                "amount": amount,
                "invoice_id": invoice,
                "move_line_id": None,
                "partial_id": None,
                "counterpart_move_id": move,
                "bank_payment_id": bank_payment,
                "settlement_id": None,
                "reversed_id": None,
            }
            for organisation, product, amount, invoice, move, bank_payment, date in rows
        ]
        settled_before = {
            **vals[11],
            "amount": 25.0,
            "settlement_id": old.id,
            "date": DAY - dt.timedelta(days=9),
        }
        allocations = insert_rows(self.env["membook.allocation"], [settled_before, *vals])
        # Reversals: of the club 0 row of 7.50 (this week), of club 1's settled row.
        reversals = insert_rows(
            self.env["membook.allocation"],
            [
                {**vals[9], "amount": -7.5, "reversed_id": allocations[10].id},
                {
                    **settled_before,
                    "settlement_id": None,
                    "date": DAY,
                    "amount": -25.0,
                    "reversed_id": allocations[0].id,
                },
            ],
        )
        return old, allocations | reversals

    def _settle(self, side, fast):
        old, allocations = self._allocations(side)
        counts = self._table_counts()
        organisations = self.twins[side]
        original = MembookSettlementFast._settle_sql
        calls = []

        def spy(model, company, date, organisations=None):
            calls.append(organisations)
            return original(model, company, date, organisations)

        # With the chatter tests leave out by default: Odoo's creation message and follower.
        Settlement = self.Settlement.with_context(
            tracking_disable=False,
            mail_create_nolog=False,
            mail_create_nosubscribe=False,
            mail_notrack=False,
        )
        with patch.object(MembookSettlementFast, "_settle_sql", spy):
            if fast:
                settlements = Settlement._settle_company(self.env.company, DAY, organisations)
            else:
                with patch.object(
                    MembookSettlementFast, "_membook_settle_blocker", lambda model: "Odoo settles"
                ):
                    settlements = Settlement._settle_company(self.env.company, DAY, organisations)
        self.assertEqual(bool(calls), fast)
        self.env.flush_all()
        added = {
            table: count - counts.get(table, 0)
            for table, count in self._table_counts().items()
            if count != counts.get(table, 0) and table != "bus_bus"
        }
        return old, allocations, settlements, added

    def _table_counts(self):
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
        counts = {}
        # Not bus_bus: the notifications the set-up queues (users joining channels) land
        # whenever the test cursor runs its pre-commit hooks, whichever path runs then.
        for (table,) in cr.fetchall():
            cr.execute(SQL("SELECT count(*) FROM %s", SQL.identifier(table)))
            counts[table] = cr.fetchone()[0]
        return counts

    def _rows(self, table, where, *params, order=BY_ID):
        self.env.cr.execute(
            SQL(
                "SELECT * FROM %s WHERE %s ORDER BY %s",
                SQL.identifier(table),
                SQL(where, *params),
                order,
            )
        )
        columns = [desc.name for desc in self.env.cr.description]
        return [dict(zip(columns, row, strict=True)) for row in self.env.cr.fetchall()]

    def _assert_rows_equal(self, odoo_rows, sql_rows, mapping, table):
        self.assertEqual(len(odoo_rows), len(sql_rows), table)
        for odoo_row, sql_row in zip(odoo_rows, sql_rows, strict=True):
            for column, value in odoo_row.items():
                if column in NOT_COMPARED:
                    continue
                if isinstance(value, str):
                    for old, new in mapping.get("texts", {}).items():
                        value = value.replace(old, new)
                expected = mapping.get((column, value), value)
                self.assertEqual(sql_row[column], expected, f"{table}.{column}")

    def test_sql_settlement_writes_what_odoo_writes(self):
        old_odoo, odoo_allocations, odoo_settlements, odoo_added = self._settle("Odoo", False)
        old_sql, sql_allocations, sql_settlements, sql_added = self._settle("SQL", True)
        # Club 0 and club 1 are settled; club 2 (negative) and club 3 (zero) are not.
        for side, settlements in (("Odoo", odoo_settlements), ("SQL", sql_settlements)):
            self.assertEqual(settlements.organisation_id, self.twins[side][:2])
        # The same rows added to every table of the database: settlements, their lines, the
        # chatter and followers Odoo gives a new settlement, the booking entry and its items.
        self.assertEqual(sql_added, odoo_added)
        self.assertEqual(odoo_added["membook_settlement"], 2)
        self.assertEqual(odoo_added["membook_settlement_line"], 4)
        self.assertTrue(odoo_added["mail_message"])
        self.assertTrue(odoo_added["mail_followers"])
        # Figures, by hand: club 0 has 3 products (one none) and 6 payments: pay[0] for
        # inv[0], pay[1] for inv[1] and for inv[2], bank[0], bank[1], the row paid by nothing
        # known; the 7.50 reversed in the same week is none. Club 1: its new payment of 30.00
        # less the reversal of 25.00 settled before.
        club0, club1 = sql_settlements.sorted(lambda s: s.organisation_id.name)
        self.assertEqual((club0.amount_total, club0.payment_count), (102.85, 6))
        self.assertEqual((club1.amount_total, club1.payment_count), (5.0, 1))
        mapping = {
            ("organisation_id", odoo.id): sql.id
            for odoo, sql in zip(self.twins["Odoo"], self.twins["SQL"], strict=True)
        }
        mapping.update(
            {
                ("partner_id", odoo.partner_id.id): sql.partner_id.id
                for odoo, sql in zip(self.twins["Odoo"], self.twins["SQL"], strict=True)
            }
        )
        for odoo, sql in zip(odoo_allocations, sql_allocations, strict=True):
            mapping[("reversed_id", odoo.id)] = sql.id
        mapping[("settlement_id", old_odoo.id)] = old_sql.id
        for odoo, sql in zip(
            odoo_settlements.sorted("id"), sql_settlements.sorted("id"), strict=True
        ):
            mapping[("settlement_id", odoo.id)] = sql.id
            mapping[("res_id", odoo.id)] = sql.id
            mapping.setdefault("texts", {})[odoo.name] = sql.name
            self.assertRegex(sql.name, r"^SET/2026/\d{5}$")
            self.assertEqual(sql.reference, FI.make(f"{sql.id + 1000:d}"))
            self.assertTrue(sql.reference_key)
        # Settlements, their lines, every allocation (settled or not), as Odoo writes them;
        # write dates are the transaction's, as the ORM's.
        self._assert_rows_equal(
            self._rows("membook_settlement", "id = ANY(%s)", odoo_settlements.ids),
            self._rows("membook_settlement", "id = ANY(%s)", sql_settlements.ids),
            mapping,
            "membook_settlement",
        )
        line_order = SQL("settlement_id, product_id NULLS FIRST, id")
        self._assert_rows_equal(
            self._rows(
                "membook_settlement_line",
                "settlement_id = ANY(%s)",
                odoo_settlements.ids,
                order=line_order,
            ),
            self._rows(
                "membook_settlement_line",
                "settlement_id = ANY(%s)",
                sql_settlements.ids,
                order=line_order,
            ),
            mapping,
            "membook_settlement_line",
        )
        self._assert_rows_equal(
            self._rows("membook_allocation", "id = ANY(%s)", odoo_allocations.ids),
            self._rows("membook_allocation", "id = ANY(%s)", sql_allocations.ids),
            {**mapping, **self._move_mapping(odoo_allocations, sql_allocations)},
            "membook_allocation",
        )
        self.assertEqual(
            [
                row["body"]
                for row in self._rows("mail_message", "%s", self._chatter(odoo_settlements))
            ],
            [
                row["body"]
                for row in self._rows("mail_message", "%s", self._chatter(sql_settlements))
            ],
        )
        # The ORM sees what the statement wrote.
        self.assertEqual(club0.allocation_ids.organisation_id, self.twins["SQL"][0])
        self.assertEqual(len(club0.line_ids), 3)
        self.assertEqual(club0.amount_payable, club0.amount_total)
        # Confirmed, each side's fees are booked in one entry, the same on both sides.
        fees = {}
        for side, settlements in (("Odoo", odoo_settlements), ("SQL", sql_settlements)):
            settlements.filtered(lambda s: s.amount_total > 0).action_confirm()
            fees[side] = settlements.fee_move_id
            self.assertEqual(len(fees[side]), 1)
        mapping["texts"][fees["Odoo"].name] = fees["SQL"].name
        self.env.flush_all()
        self._assert_rows_equal(
            self._rows("account_move_line", "move_id = %s", fees["Odoo"].id),
            self._rows("account_move_line", "move_id = %s", fees["SQL"].id),
            {**mapping, ("move_id", fees["Odoo"].id): fees["SQL"].id},
            "account_move_line",
        )
        result = self.env["membook.ledger.booking"]._check(self.env.company)
        for _partner, (owed, booked) in result.items():
            self.assertEqual(owed, booked)

    def _chatter(self, settlements):
        return SQL("model = 'membook.settlement' AND res_id = ANY(%s)", settlements.ids)

    def _move_mapping(self, odoo_allocations, sql_allocations):
        """The booking entries of each side, as the allocations point to them."""
        return {
            ("ledger_move_id", odoo.ledger_move_id.id): sql.ledger_move_id.id
            for odoo, sql in zip(odoo_allocations, sql_allocations, strict=True)
            if odoo.ledger_move_id
        }

    def test_booking_entries_are_the_same(self):
        _old, odoo_allocations, _s, _a = self._settle("Odoo", False)
        _old, sql_allocations, _s, _a = self._settle("SQL", True)
        odoo_move = odoo_allocations.ledger_move_id
        sql_move = sql_allocations.ledger_move_id
        self.assertEqual((len(odoo_move), len(sql_move)), (1, 1))
        self.assertNotEqual(odoo_move, sql_move)
        # One item per organisation but club 3 (nothing), and the transit total; the
        # operator's own share is not due to anyone.
        self.assertEqual(len(sql_move.line_ids), 4)
        self.assertFalse(
            (odoo_allocations | sql_allocations)
            .filtered(lambda a: not a.organisation_id)
            .ledger_move_id
        )

    def test_switched_off_odoo_settles_and_says_so(self):
        self.env["ir.config_parameter"].sudo().set_param("membook_membership.sql_fast_paths", "off")
        with (
            patch.object(MembookSettlementFast, "_settle_sql") as settle_sql,
            patch.object(fast_module._logger, "info") as info,
        ):
            settlements = self._settle_plain("SQL")
        settle_sql.assert_not_called()
        self.assertEqual(settlements.organisation_id, self.twins["SQL"][:2])
        logged = " ".join(str(call.args) for call in info.call_args_list)
        self.assertIn("turns the SQL fast paths off", logged)

    def _settle_plain(self, side):
        self._allocations(side)
        return self.Settlement._settle_company(self.env.company, DAY, self.twins[side])

    def test_failing_sql_settlement_is_undone_and_odoo_settles(self):
        """A fault the database cannot be made to produce on demand (a data error half-way
        through the statement): the statement runs and writes, then the error is raised."""
        original = MembookSettlementFast._settle_sql
        calls = []

        def write_then_fail(model, company, date, organisations=None):
            calls.append(original(model, company, date, organisations))
            raise psycopg2.errors.DataError("forced failure of the SQL settlement")

        with (
            patch.object(MembookSettlementFast, "_settle_sql", write_then_fail),
            patch.object(fast_module._logger, "info") as info,
        ):
            settlements = self._settle_plain("SQL")
        self.assertTrue(calls[0], "the statement settled before failing")
        self.assertIn("forced failure", str(info.call_args.args))
        # Odoo settled instead; nothing of the undone statement is left.
        club0, club1 = settlements.sorted(lambda s: s.organisation_id.name)
        self.assertEqual((club0.amount_total, club0.payment_count), (102.85, 6))
        self.assertEqual((club1.amount_total, club1.payment_count), (5.0, 1))
        self.assertFalse(calls[0].exists())
        self.assertEqual(
            self.Settlement.search_count([("organisation_id", "in", self.twins["SQL"].ids)]),
            3,  # the old one of club 1, and the two new ones
        )
        self.assertEqual(len(club0.line_ids), 3)
        self.assertIn("forced failure", club0.message_ids[0].body)

    def test_unknown_dependent_or_override_sends_to_odoos_path(self):
        Settlement = self.Settlement
        self.assertIsNone(Settlement._membook_settle_blocker())
        known = fast_module.SETTLE_KNOWN_DEPENDENTS - {"membook.settlement.amount_payable"}
        with patch.object(fast_module, "SETTLE_KNOWN_DEPENDENTS", known):
            self.assertIn("amount_payable", Settlement._membook_settle_blocker())
        overrides = {
            **fast_module.SETTLE_KNOWN_OVERRIDES,
            ("membook.settlement", "_settle"): set(),
        }
        with patch.object(fast_module, "SETTLE_KNOWN_OVERRIDES", overrides):
            self.assertIn("_settle", Settlement._membook_settle_blocker())
