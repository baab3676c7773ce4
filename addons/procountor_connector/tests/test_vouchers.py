# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date, datetime, time, timedelta
from unittest.mock import patch

from psycopg2 import IntegrityError

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import mute_logger

from nordic_billing import vouchers
from nordic_billing.vouchers import gross_balance, previous_week

from .common import SUNDAY, WEEK_DAY, D, ProcountorCase, VoucherRow


def by_account(payload):
    return [
        (
            t["account"],
            t["accountingValue"],
            sorted((d["dimensionId"], d["itemId"]) for d in t.get("dimensionItemValues", [])),
        )
        for t in payload["transactions"]
    ]


@tagged("post_install", "-at_install")
class TestVouchers(ProcountorCase):
    def _rows_source(self, rows):
        """Stand in for the allocation model that ``_procountor_voucher_rows`` will read."""
        return patch.object(
            type(self.backend), "_procountor_voucher_rows", lambda backend, start, end: rows
        )

    def test_three_levels_each_with_its_mapping_balanced_and_pushed(self):
        drafts = self.backend._procountor_build_vouchers(self.fee_rows(), [], WEEK_DAY)
        self.assertEqual([d.problems for d in drafts], [[], [], []])
        payloads = {d.organisation: d.payload for d in drafts}
        self.assertEqual(
            by_account(payloads[self.federation]),
            [("1710", D("50.00"), []), ("3060", D("-50.00"), [(1, 11), (2, 21)])],
        )
        self.assertEqual(
            by_account(payloads[self.district]),
            [("1710", D("20.00"), []), ("3050", D("-20.00"), [(1, 12)])],
        )
        self.assertEqual(
            by_account(payloads[self.club]),
            [("1710", D("50.00"), []), ("3000", D("-50.00"), [(1, 13), (2, 21)])],
        )
        for payload in payloads.values():
            self.assertEqual(gross_balance(payload["transactions"]), 0)
            self.assertEqual(payload["receiptDate"], "2026-11-22")
            self.assertEqual(
                {(t["vatStatus"], t["vatPercent"]) for t in payload["transactions"]}, {(12, 0)}
            )

        exchanges = self.backend._procountor_queue_vouchers(drafts, WEEK_DAY)
        self.assertEqual(
            sorted(exchanges.mapped("external_key")),
            [
                "Membership fees 2026-W47 LIITTO",
                "Membership fees 2026-W47 PIIRI",
                "Membership fees 2026-W47 SEURA",
            ],
        )
        self.assertEqual(set(exchanges.mapped("state")), {"new"})
        self.assertEqual(set(exchanges.mapped("period_key")), {"2026-W47"})
        self.run_cron("ir_cron_procountor_push")
        self.assertEqual(set(exchanges.mapped("state")), {"done"})
        receipts = {r["name"]: r for r in self.receipts()}
        self.assertEqual(len(receipts), 3)
        club = receipts["Membership fees 2026-W47 SEURA"]
        self.assertEqual(club["status"], "UNFINISHED")
        self.assertEqual(
            club["id"], exchanges.filtered(lambda e: e.organisation_id == self.club).remote_id
        )
        self.assertEqual(
            [(t["account"], t["accountingValue"]) for t in club["transactions"]],
            [("1710", D("50.00")), ("3000", D("-50.00"))],
        )

    def test_default_mapping_for_an_organisation_without_its_own(self):
        club2 = self.env["membook.organisation"].create(
            {
                "name": "Nokia Ski Club",
                "ref": "NOKIA",
                "level_id": self.level_club.id,
                "parent_organisation_id": self.district.id,
            }
        )
        drafts = self.backend._procountor_build_vouchers(
            [VoucherRow(club2, self.fee, D("25.00"), WEEK_DAY)], [], WEEK_DAY
        )
        self.assertEqual(
            by_account(drafts[0].payload),
            [("1710", D("25.00"), []), ("3000", D("-25.00"), [(2, 21)])],
        )
        self.assertEqual(drafts[0].name, "Membership fees 2026-W47 NOKIA")

    def test_settlement_debits_bank_and_credits_clearing(self):
        drafts = self.backend._procountor_build_vouchers(
            self.fee_rows()[2:3], [self.settlement(self.club, "40.00")], WEEK_DAY
        )
        self.assertEqual(
            by_account(drafts[0].payload),
            [
                ("1710", D("25.00"), []),
                ("3000", D("-25.00"), [(1, 13), (2, 21)]),
                ("1910", D("40.00"), []),
                ("1710", D("-40.00"), []),
            ],
        )
        self.queue(self.fee_rows()[2:3], [self.settlement(self.club, "40.00")]).action_send()
        self.assertEqual(len(self.receipts()), 1)

    def test_reversed_payment_and_rows_outside_week_or_of_the_operator(self):
        operator = self.env["membook.organisation"]
        rows = [
            VoucherRow(self.club, self.fee, D("25.00"), WEEK_DAY),
            VoucherRow(self.club, self.fee, D("-25.00"), WEEK_DAY),  # the payment came back
            VoucherRow(self.club, self.fee, D("25.00"), WEEK_DAY - timedelta(days=7)),
            VoucherRow(operator, self.fee, D("5.00"), WEEK_DAY),
            VoucherRow(self.district, self.fee, D("10.00"), SUNDAY),
        ]
        drafts = self.backend._procountor_build_vouchers(rows, [], WEEK_DAY)
        self.assertEqual([d.organisation for d in drafts], [self.district, self.club])
        # The payment that came back is a row of its own, not netted into the fee.
        self.assertEqual(
            [(t["account"], t["accountingValue"]) for t in drafts[1].payload["transactions"]],
            [("3000", D("-25.00")), ("3000", D("25.00"))],
        )

    def test_vat_status_and_percent_come_from_the_product(self):
        self.fee.product_tmpl_id.write({"procountor_vat_status": 1, "procountor_vat_percent": 10.0})
        drafts = self.backend._procountor_build_vouchers(self.fee_rows()[2:3], [], WEEK_DAY)
        income = drafts[0].payload["transactions"][1]
        self.assertEqual((income["vatStatus"], income["vatPercent"]), (1, D("10")))
        # Net booked: 22.73 + 10 % = 25.00.
        self.assertEqual(income["accountingValue"], D("-22.73"))
        self.assertEqual(gross_balance(drafts[0].payload["transactions"]), 0)

    def test_unmapped_product_stops_that_voucher_until_rebuilt(self):
        rows = [*self.fee_rows(), VoucherRow(self.club, self.youth_fee, D("20.00"), WEEK_DAY)]
        exchanges = self.queue(rows)
        club = exchanges.filtered(lambda e: e.organisation_id == self.club)
        self.assertEqual(club.state, "error")
        self.assertFalse(club.retryable)
        self.assertIn("Youth fee 2026 has no account mapping for", club.error_message)
        self.run_cron("ir_cron_procountor_push")
        self.assertEqual(club.state, "error")
        self.assertEqual(len(self.receipts()), 2, "the other organisations' vouchers went")
        with self.assertRaisesRegex(UserError, "rebuild"):
            club.action_send()

        self.env["procountor.product.mapping"].create(self._mapping(self.youth_fee, None, "3100"))
        with self._rows_source(rows):
            club.action_rebuild()
        self.assertEqual(club.state, "new")
        self.assertFalse(club.error_message)
        club.action_send()
        self.assertEqual(club.state, "done")
        self.assertEqual(len(self.receipts()), 3)

    def test_inactive_account_after_mapping_is_caught_before_sending(self):
        self.mapping_club.account_id.active = False  # deactivated by a later chart sync
        drafts = self.backend._procountor_build_vouchers(self.fee_rows(), [], WEEK_DAY)
        club = next(d for d in drafts if d.organisation == self.club)
        self.assertIsNone(club.payload)
        self.assertIn("3000 Jäsenmaksutuotot is inactive in Procountor", club.problems[0])

    def test_never_two_vouchers_for_one_week_and_organisation(self):
        first = self.queue(self.fee_rows())
        self.assertEqual(len(first), 3)
        again = self.queue(self.fee_rows()[:1] * 3)
        self.assertFalse(again, "the week is queued already")
        self.env["membook.organisation"].browse(self.club.id).ref = "CLUB"  # a new code
        self.assertFalse(self.queue(self.fee_rows()))
        exchange = first[0]
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            with self.env.cr.savepoint():
                exchange.copy({"external_key": "another name"})

    def test_weekly_cron_books_last_week_once(self):
        _year, _week, monday, sunday = previous_week(fields.Date.context_today(self.backend))
        rows = self.fee_rows(day=monday + timedelta(days=2))
        with self._rows_source(rows):
            self.run_cron("ir_cron_procountor_weekly_vouchers")
            self.run_cron("ir_cron_procountor_weekly_vouchers")
        exchanges = self.backend.exchange_ids
        self.assertEqual(len(exchanges), 3)
        self.assertEqual(set(exchanges.mapped("date_to")), {sunday})
        self.run_cron("ir_cron_procountor_push")
        self.assertEqual(set(exchanges.mapped("state")), {"done"})
        self.assertEqual(len(self.receipts()), 3)

    def test_weekly_cron_without_allocations_books_nothing(self):
        # Until the allocation model is wired in, the source of fees is empty.
        self.assertEqual(self.backend._procountor_voucher_rows(date(2026, 1, 1), SUNDAY), [])
        self.run_cron("ir_cron_procountor_weekly_vouchers")
        self.assertFalse(self.backend.exchange_ids)

    def test_build_now_previews_then_creates(self):
        rows = [*self.fee_rows(), VoucherRow(self.club, self.youth_fee, D("20.00"), WEEK_DAY)]
        with self._rows_source(rows):
            form = Form(self.env["procountor.voucher.wizard"])
            form.day = WEEK_DAY
            wizard = form.save()
            self.assertEqual(wizard.backend_id, self.backend)
            self.assertEqual(wizard.period_key, "2026-W47")
            wizard.action_preview()
            self.assertIn("Youth fee 2026 has no account mapping", wizard.problems)
            with self.assertRaisesRegex(UserError, "Fix these"):
                wizard.action_create()
            self.assertFalse(
                self.backend.exchange_ids, "nothing is queued while a product is unmapped"
            )

            self.env["procountor.product.mapping"].create(
                self._mapping(self.youth_fee, None, "3100")
            )
            wizard.action_preview()
            self.assertFalse(wizard.problems)
            self.assertEqual(wizard.voucher_count, 3)
            self.assertEqual(sum(wizard.line_ids.mapped("debit")), 140.0)
            self.assertEqual(sum(wizard.line_ids.mapped("credit")), 140.0)
            self.assertIn("3100", wizard.line_ids.mapped("account"))
            wizard.send_now = True
            action = wizard.action_create()
        exchanges = self.env["procountor.exchange"].search(action["domain"])
        self.assertEqual(len(exchanges), 3)
        self.assertEqual(set(exchanges.mapped("state")), {"done"})

    def test_preview_of_a_week_booked_already_says_so(self):
        with self._rows_source(self.fee_rows()):
            self.queue(self.fee_rows()[2:3])  # the club's voucher of the week exists
            wizard = self.env["procountor.voucher.wizard"].create(
                {"backend_id": self.backend.id, "day": WEEK_DAY}
            )
            wizard.action_preview()
            self.assertEqual(wizard.voucher_count, 2)
            self.assertIn("1 memo vouchers of week 2026-W47 exist already", wizard.existing_note)
            self.assertIn("Membership fees 2026-W47 SEURA", wizard.existing_note)
            self.assertEqual(wizard.line_ids.organisation_id, self.federation | self.district)
            wizard.action_create()
            wizard.action_preview()
            self.assertEqual(wizard.voucher_count, 0)
            self.assertFalse(wizard.line_ids)
            self.assertIn("3 memo vouchers of week 2026-W47 exist already", wizard.existing_note)
            with self.assertRaisesRegex(UserError, "exist already and are not created again"):
                wizard.action_create()

    def test_approve_vouchers_when_asked(self):
        self.backend.voucher_approve = True
        exchange = self.queue(self.fee_rows()[2:3])
        exchange.action_send()
        self.assertEqual(exchange.remote_status, "APPROVED")
        self.assertEqual(self.receipts()[0]["status"], "APPROVED")


@tagged("post_install", "-at_install")
class TestVoucherSource(ProcountorCase):
    """The voucher reads the allocations and paid settlements of membook_membership."""

    def _allocate(self, organisation, amount, made_at):
        allocation = self.env["membook.allocation"].create(
            {
                "company_id": self.env.company.id,
                "date": made_at.date(),
                "organisation_id": organisation.id if organisation else False,
                "product_id": self.fee.id,
                "amount": amount,
            }
        )
        # Allocations count by the day they were made, which only the database can backdate.
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE membook_allocation SET create_date = %s WHERE id = %s",
            (made_at, allocation.id),
        )
        allocation.invalidate_recordset(["create_date"])
        return allocation

    def test_rows_from_allocations_made_in_the_week_and_paid_settlements(self):
        _year, _week, monday, sunday = vouchers.week_of(WEEK_DAY)
        inside = datetime.combine(monday, time(9)) + timedelta(days=2)
        for organisation, amount in (
            (self.federation, 25.0),
            (self.district, 10.0),
            (self.club, 25.0),
            (self.club, -25.0),  # a reversed payment
            (None, 5.0),  # the operator's own share: no memo voucher books it
        ):
            self._allocate(organisation, amount, inside)
        self._allocate(self.club, 99.0, datetime.combine(monday, time.min) - timedelta(seconds=1))
        self._allocate(self.club, 98.0, datetime.combine(sunday + timedelta(days=1), time.min))
        rows = self.backend._procountor_voucher_rows(monday, sunday)
        self.assertEqual(
            sorted((row.organisation.name or "operator", row.amount) for row in rows),
            sorted(
                [
                    ("Finnish Ski Federation", D("25.00")),
                    ("Pirkanmaa District", D("10.00")),
                    ("Tampere Ski Club", D("25.00")),
                    ("Tampere Ski Club", D("-25.00")),
                ]
            ),
        )
        settlement = self.env["membook.settlement"].create(
            {"organisation_id": self.club.id, "date": monday}
        )
        self._allocate(self.club, 40.0, inside).settlement_id = settlement
        self.assertFalse(self.backend._procountor_settlement_rows(monday, sunday), "not paid yet")
        settlement.write({"state": "paid", "paid_date": monday + timedelta(days=3)})
        (row,) = self.backend._procountor_settlement_rows(monday, sunday)
        self.assertEqual((row.organisation, row.amount), (self.club, D("40.00")))
        drafts = self.backend._procountor_build_vouchers(
            self.backend._procountor_voucher_rows(monday, sunday),
            self.backend._procountor_settlement_rows(monday, sunday),
            WEEK_DAY,
        )
        club = next(d for d in drafts if d.organisation == self.club)
        self.assertEqual(club.problems, [])
        self.assertEqual(gross_balance(club.payload["transactions"]), 0)
        accounts = {t["account"] for t in club.payload["transactions"]}
        self.assertIn("1710", accounts)


@tagged("post_install", "-at_install")
class TestVoucherTrail(TestVoucherSource):
    """Each memo voucher row sums known allocations; the trail goes both ways in one click."""

    def test_rows_traced_to_allocations_and_settlements_both_ways(self):
        _year, _week, monday, _sunday = vouchers.week_of(WEEK_DAY)
        inside = datetime.combine(monday, time(9)) + timedelta(days=2)
        fee_1 = self._allocate(self.club, 25.0, inside)
        fee_2 = self._allocate(self.club, 25.0, inside)
        credit = self._allocate(self.club, -10.0, inside)  # a credit note
        district_fee = self._allocate(self.district, 10.0, inside)
        settlement = self.env["membook.settlement"].create(
            {"organisation_id": self.club.id, "date": monday}
        )
        settled = self._allocate(self.club, 40.0, inside)
        settled.settlement_id = settlement
        settlement.write(
            {"state": "paid", "paid_date": monday + timedelta(days=3), "service_fee": 1.5}
        )
        user = new_test_user(
            self.env,
            login="pc-voucher-user",
            groups="base.group_user,procountor_connector.group_procountor_user,"
            "membook_membership.group_membook_user",
        )
        exchanges = self.backend.with_user(user)._procountor_week_vouchers(WEEK_DAY)
        club = exchanges.filtered(lambda e: e.organisation_id == self.club)
        district = exchanges.filtered(lambda e: e.organisation_id == self.district)
        rows = [
            (line.account, line.debit - line.credit, line.allocation_ids, line.settlement_ids)
            for line in club.line_ids
        ]
        nothing = self.env["membook.settlement"]
        self.assertEqual(
            rows,
            [
                ("1710", 80.0, credit.browse(), nothing),  # sums the rows below
                ("3000", -90.0, fee_1 | fee_2 | settled, nothing),
                ("3000", 10.0, credit, nothing),
                ("1910", 38.5, credit.browse(), settlement),
                ("7850", 1.5, credit.browse(), settlement),
                ("1710", -40.0, credit.browse(), settlement),
            ],
        )
        self.assertEqual(club.line_ids[2].description, "Credit notes: Membership fee 2026")
        self.assertEqual(club.line_ids.mapped("allocation_count"), [4, 3, 1, 0, 0, 0])
        for line, expected in zip(
            club.line_ids[:3],
            (fee_1 | fee_2 | credit | settled, fee_1 | fee_2 | settled, credit),
            strict=False,
        ):
            action = line.with_user(user).action_view_allocations()
            self.assertEqual(self.env[action["res_model"]].search(action["domain"]), expected)
        # The books tie out: the fees settled less what reached the bank is the service fee.
        self.assertEqual(settlement.amount_total - rows[3][1], rows[4][1])

        # Voucher -> allocations and settlements, one click each.
        club_user = club.with_user(user)
        action = club_user.action_view_allocations()
        self.assertEqual(
            self.env[action["res_model"]].with_user(user).search(action["domain"]),
            fee_1 | fee_2 | credit | settled,
        )
        self.assertEqual(club_user.allocation_count, 4)
        action = club_user.action_view_settlements()
        self.assertEqual(
            self.env[action["res_model"]].with_user(user).search(action["domain"]), settlement
        )
        self.assertEqual(club_user.settlement_count, 1)
        # Settlement -> its memo vouchers; allocation -> its voucher.
        action = settlement.with_user(user).action_view_procountor_vouchers()
        self.assertEqual(
            self.env[action["res_model"]].with_user(user).search(action["domain"]), club
        )
        self.assertEqual(settlement.with_user(user).procountor_voucher_count, 1)
        allocations = (fee_1 | credit | district_fee).with_user(user)
        self.assertEqual([a.procountor_voucher_id for a in allocations], [club, club, district])
        action = district_fee.with_user(user).action_view_procountor_voucher()
        self.assertEqual(
            (action["res_model"], action["res_id"]), ("procountor.exchange", district.id)
        )
