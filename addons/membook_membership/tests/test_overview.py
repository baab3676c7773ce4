# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime as dt
from contextlib import nullcontext
from decimal import Decimal

from freezegun import freeze_time

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingHttpCommon

from nordic_billing.bankfiles import write_camt054
from nordic_billing.payment import Payment

from .common import MembookBillingCommon

IBAN = "FI4947300010416310"
# A Wednesday: the week began on Monday 2 February 2026.
TODAY = dt.date(2026, 2, 4)


class BankDayMixin:
    """Fee invoices of the three members on the Finnish reference model, and bank files."""

    @classmethod
    def _setup_invoices(cls):
        models = dict(
            cls.sale_journal._fields["invoice_reference_model"]._description_selection(cls.env)
        )
        if "fi" not in models:
            cls.skipTest(cls, "needs the Finnish reference model of l10n_fi")
        cls.sale_journal.invoice_reference_model = "fi"
        cls.bank_journal = cls.company_data["default_journal_bank"]
        cls.invoices = {}
        for member in (cls.member_a, cls.member_b, cls.member_other):
            invoice = cls.env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": member.id,
                    "invoice_date": "2026-01-15",
                    "invoice_date_due": "2026-02-15",
                    "invoice_line_ids": [
                        (0, 0, {"product_id": cls.fee.id, "price_unit": 60.0, "tax_ids": []})
                    ],
                }
            )
            invoice.action_post()
            cls.invoices[member] = invoice
        cls.manager = new_test_user(
            cls.env,
            login="overview-manager",
            groups="base.group_user,membership.group_membership_manager",
            company_id=cls.env.company.id,
            company_ids=[Command.set(cls.env.company.ids)],
        )

    @staticmethod
    def _payment(archive_id, reference, amount, day, name="PAYER"):
        return Payment(
            account=IBAN,
            archive_id=archive_id,
            reference=reference,
            amount=Decimal(amount),
            currency="EUR",
            payment_date=day,
            booking_date=day,
            payer_name=name,
            is_correction=False,
            source_format="camt054",
            source_line="",
        )

    def _import(self, payments, name, imported_at=None):
        data = b"".join(write_camt054(IBAN, payments))
        record = self.env["membook.bank.file"]._import_file(self.bank_journal, name, data)
        if imported_at:
            record.flush_recordset()
            self.env.cr.execute(
                "UPDATE membook_bank_file SET create_date = %s WHERE id = %s",
                (imported_at, record.id),
            )
            record.invalidate_recordset(["create_date"])
        cron = self.env.ref("membook_membership.ir_cron_membook_bank_process")
        for _attempt in range(5):
            # An HTTP case runs in registry test mode already.
            mode = nullcontext() if isinstance(self, HttpCase) else self.enter_registry_test_mode()
            with mode:
                cron.method_direct_trigger()
            if not self.env["membook.bank.payment"].search_count([("state", "=", "new")]):
                break
        return record

    def _ref(self, member):
        return self.invoices[member].payment_reference


@tagged("post_install", "-at_install")
class TestOverview(BankDayMixin, MembookBillingCommon):
    """The overview's figures on a known day: Wednesday 4 February 2026."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_invoices()

    def _known_day(self):
        # Last week (Friday): one unreferenced payment, still in the queue.
        self._import(
            [self._payment("U0", "", "25.00", dt.date(2026, 1, 30), "FRIDAY NOBODY")],
            "friday.xml",
            dt.datetime(2026, 1, 30, 9),
        )
        # Monday: an unreferenced payment; Tuesday: B pays 75 on a 60 invoice (matched);
        # today: A pays exactly (matched). The files come in on Monday: none since.
        self._import(
            [
                self._payment("U1", "", "40.00", dt.date(2026, 2, 2), "MONDAY NOBODY"),
                self._payment("B1", self._ref(self.member_b), "75.00", dt.date(2026, 2, 3)),
                self._payment("A1", self._ref(self.member_a), "60.00", TODAY),
            ],
            "monday.xml",
            dt.datetime(2026, 2, 2, 9),
        )
        # Settlements: the club's shares to confirm, the district's confirmed.
        Allocation = self.env["membook.allocation"]
        Settlement = self.env["membook.settlement"]
        club = Settlement.create({"organisation_id": self.club.id, "date": "2026-02-02"})
        Allocation.search([("organisation_id", "=", self.club.id)]).settlement_id = club
        district = Settlement.create({"organisation_id": self.district.id, "date": "2026-01-26"})
        Allocation.search([("organisation_id", "=", self.district.id)]).settlement_id = district
        district.state = "confirmed"

    def test_figures_of_a_known_day(self):
        self._known_day()
        with freeze_time("2026-02-04 12:00:00"):
            overview = self.env["membook.overview"].with_user(self.manager).get_overview()
        self.assertEqual((overview["today"], overview["week_start"]), ("2026-02-04", "2026-02-02"))
        money = overview["money_in"]
        self.assertEqual((money["today"]["amount"], money["today"]["count"]), (60.0, 1))
        self.assertEqual((money["week"]["amount"], money["week"]["count"]), (175.0, 3))
        # Of this week's three payments two were matched by their reference.
        self.assertEqual(overview["automatic"], {"matched": 2, "total": 3, "percent": 66.7})
        unmatched = overview["unmatched"]
        self.assertEqual((unmatched["count"], unmatched["amount"]), (2, 65.0))
        self.assertEqual(unmatched["oldest"], "2026-01-30")
        self.assertEqual(
            [row["payer_name"] for row in unmatched["rows"]], ["FRIDAY NOBODY", "MONDAY NOBODY"]
        )
        settlements = overview["settlements"]
        self.assertEqual((settlements["draft"]["count"], settlements["draft"]["amount"]), (1, 50.0))
        self.assertEqual(
            (settlements["confirmed"]["count"], settlements["confirmed"]["amount"]), (1, 20.0)
        )
        self.assertEqual(
            [row["organisation"] for row in settlements["rows"]],
            [self.district.complete_name, self.club.complete_name],
        )
        # Monday's file was the last: Tuesday passed without one (today's may still come).
        [bank] = overview["bank_files"]
        self.assertEqual(bank["journal_id"], self.bank_journal.id)
        self.assertEqual((bank["file_name"], bank["imported_day"]), ("monday.xml", "2026-02-02"))
        self.assertEqual(bank["missed"], ["2026-02-03"])
        cards = {card["key"]: card for card in overview["queues"]}
        self.assertEqual((cards["unmatched"]["count"], cards["unmatched"]["amount"]), (2, 65.0))
        self.assertEqual(cards["unmatched"]["severity"], "warning")
        self.assertEqual(cards["to_process"]["severity"], "ok")
        self.assertEqual(
            (cards["settlements_draft"]["count"], cards["settlements_draft"]["amount"]), (1, 50.0)
        )
        # Each card opens the list it counts.
        action = cards["unmatched"]["action"]
        self.assertEqual(
            self.env[action["res_model"]].search_count(action["domain"]),
            cards["unmatched"]["count"],
        )

    def test_no_missed_day_over_a_weekend_and_a_holiday(self):
        # Last file on Thursday 2 April 2026: Good Friday, the weekend and Easter Monday are
        # not banking days, so nothing is missing on Tuesday 7 April.
        self._import(
            [self._payment("E1", self._ref(self.member_a), "60.00", dt.date(2026, 4, 2))],
            "easter.xml",
            dt.datetime(2026, 4, 2, 9),
        )
        Overview = self.env["membook.overview"].with_user(self.manager)
        with freeze_time("2026-04-07 12:00:00"):
            [bank] = Overview.get_overview()["bank_files"]
        self.assertEqual(bank["missed"], [])
        with freeze_time("2026-04-09 12:00:00"):
            [bank] = Overview.get_overview()["bank_files"]
        self.assertEqual(bank["missed"], ["2026-04-07", "2026-04-08"])

    def test_empty_day(self):
        with freeze_time("2026-02-04 12:00:00"):
            overview = self.env["membook.overview"].with_user(self.manager).get_overview()
        self.assertEqual(overview["money_in"]["week"]["amount"], 0.0)
        self.assertIsNone(overview["automatic"]["percent"])
        self.assertEqual(overview["unmatched"]["count"], 0)
        self.assertEqual(overview["bank_files"], [])

    def test_overview_is_the_apps_first_menu(self):
        menus = self.env["ir.ui.menu"].with_user(self.manager).load_menus(False)
        app = menus[self.env.ref("membership.menu_association").id]
        overview = self.env.ref("membook_membership.menu_membook_overview")
        # The web client opens an app on the action of its first menu.
        self.assertEqual(app["children"][0], overview.id)
        action = self.env.ref("membook_membership.membook_overview_action")
        self.assertEqual(
            (menus[overview.id]["action_model"], menus[overview.id]["action_id"]),
            ("ir.actions.client", action.id),
        )
        self.assertEqual(menus[overview.id]["action_path"], "membership-overview")


@tagged("post_install", "-at_install")
class TestOverviewTour(BankDayMixin, MembookBillingCommon, AccountTestInvoicingHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_invoices()

    def test_overview_tour(self):
        self._import(
            [
                self._payment("T1", "", "40.00", dt.date.today(), "TOUR NOBODY"),
                self._payment("T2", self._ref(self.member_a), "60.00", dt.date.today()),
            ],
            "tour.xml",
        )
        self.start_tour(
            "/odoo/membership-overview", "membook_overview_tour", login="overview-manager"
        )
