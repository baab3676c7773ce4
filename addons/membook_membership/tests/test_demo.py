# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestDemo(HttpCase):
    """The demo data (as Odoo's "load demo data" and tools/demo make it) and its club
    treasurer's first look."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Made by the demo XML when the database has demo data; made here otherwise.
        cls.company = cls.env["membook.demo"]._generate()
        cls.treasurer = cls.env.ref("membook_membership.demo_user_treasurer")
        cls.club = cls.env.ref("membook_membership.demo_club")

    def test_demo_data(self):
        Payment = self.env["membook.bank.payment"]
        domain = [("company_id", "=", self.company.id)]
        self.assertEqual(
            self.env["membook.organisation"].search_count([*domain]), 13
        )  # a federation, 3 districts, 9 clubs
        matched = Payment.search_count([*domain, ("state", "=", "matched")])
        self.assertGreater(matched, 0.9 * Payment.search_count(domain))
        self.assertTrue(self.env["membook.settlement"].search_count(domain))

    def test_treasurer_tour(self):
        env = self.env(user=self.treasurer)
        self.assertFalse(self.treasurer.has_group("membership.group_membership_manager"))
        members = env["res.partner"].search([("member_organisation_id", "!=", False)])
        self.assertEqual(members.member_organisation_id, self.club)
        settlements = env["membook.settlement"].search([])
        self.assertEqual(settlements.organisation_id, self.club)
        self.start_tour("/odoo", "membook_demo_treasurer_members_tour", login="treasurer")
        self.start_tour("/odoo", "membook_demo_treasurer_settlement_tour", login="treasurer")
