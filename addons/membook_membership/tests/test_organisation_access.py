# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Access per organisation: two districts of one federation, a club in each."""

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import MembookBillingCommon


@tagged("post_install", "-at_install")
class TestOrganisationAccess(MembookBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Organisation = cls.env["membook.organisation"]
        cls.district_2 = Organisation.create(
            {
                "name": "Lapland District",
                "level_id": cls.level_district.id,
                "parent_organisation_id": cls.federation.id,
            }
        )
        cls.club_2 = Organisation.create(
            {
                "name": "Rovaniemi Ski Club",
                "level_id": cls.level_club.id,
                "parent_organisation_id": cls.district_2.id,
            }
        )
        cls.member_2 = cls.env["res.partner"].create(
            {"name": "Lapland Member", "is_member": True, "member_organisation_id": cls.club_2.id}
        )
        cls.invoice_1 = cls._fee_invoice(cls.member_a)
        cls.invoice_2 = cls._fee_invoice(cls.member_2)
        Allocation = cls.env["membook.allocation"]
        cls.allocations = {}
        for organisation, invoice in (
            (cls.club, cls.invoice_1),
            (cls.district, cls.invoice_1),
            (cls.club_2, cls.invoice_2),
            (cls.district_2, cls.invoice_2),
            (cls.federation, cls.invoice_2),
        ):
            cls.allocations[organisation] = Allocation.create(
                {
                    "company_id": cls.env.company.id,
                    "date": "2026-02-02",
                    "organisation_id": organisation.id,
                    "invoice_id": invoice.id,
                    "amount": 10.0,
                }
            )
        Settlement = cls.env["membook.settlement"]
        cls.settlement_1 = Settlement.create({"organisation_id": cls.club.id})
        cls.settlement_2 = Settlement.create({"organisation_id": cls.club_2.id})
        Payment = cls.env["membook.bank.payment"]
        journal = cls.company_data["default_journal_bank"]
        cls.payment_1 = Payment.create(
            {"journal_id": journal.id, "partner_id": cls.member_a.id, "amount": 60.0}
        )
        cls.payment_2 = Payment.create(
            {"journal_id": journal.id, "partner_id": cls.member_2.id, "amount": 60.0}
        )
        cls.payment_unassigned = Payment.create({"journal_id": journal.id, "amount": 5.0})
        cls.treasurer = new_test_user(
            cls.env,
            login="mb-treasurer",
            groups="base.group_user,membook_membership.group_membook_treasurer",
        )
        cls.treasurer.membook_organisation_ids = cls.district
        cls.manager = new_test_user(
            cls.env,
            login="mb-federation",
            groups="base.group_user,membership.group_membership_manager",
        )

    @classmethod
    def _fee_invoice(cls, member):
        invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": member.id,
                "invoice_date": "2026-01-15",
                "invoice_line_ids": [
                    (0, 0, {"product_id": cls.fee.id, "price_unit": 60.0, "tax_ids": []})
                ],
            }
        )
        invoice.action_post()
        return invoice

    def _seen(self, user, model, domain=()):
        return self.env[model].with_user(user).search(list(domain))

    def test_treasurer_sees_their_district_and_its_clubs_only(self):
        user = self.treasurer
        members = self._seen(user, "res.partner", [("is_member", "=", True)])
        self.assertIn(self.member_a, members)
        self.assertIn(self.member_other, members, "a member of the district itself")
        self.assertNotIn(self.member_2, members)
        invoices = self._seen(user, "account.move", [("move_type", "=", "out_invoice")])
        self.assertIn(self.invoice_1, invoices)
        self.assertNotIn(self.invoice_2, invoices)
        self.assertEqual(
            self._seen(user, "membook.allocation"),
            self.allocations[self.club] | self.allocations[self.district],
        )
        self.assertEqual(self._seen(user, "membook.settlement"), self.settlement_1)
        self.assertEqual(self._seen(user, "membook.bank.payment"), self.payment_1)
        self.assertEqual(
            set(self._seen(user, "membook.fee.split").organisation_id.ids),
            {self.club.id, self.district.id},
        )
        # The organisations above are seen (by name), the ones beside are not.
        organisations = self._seen(user, "membook.organisation")
        self.assertEqual(organisations, self.federation | self.district | self.club)
        with self.assertRaises(AccessError):
            self.member_2.with_user(user).read(["name"])
        with self.assertRaises(AccessError):
            self.invoice_2.with_user(user).read(["name"])
        with self.assertRaises(AccessError):
            self.settlement_2.with_user(user).read(["name"])

    def test_treasurer_edits_their_members_only(self):
        self.member_a.with_user(self.treasurer).phone = "+358 40 123 4567"
        self.assertEqual(self.member_a.phone, "+358 40 123 4567")
        with self.assertRaises(AccessError):
            self.member_2.with_user(self.treasurer).phone = "+358 40 765 4321"
        with self.assertRaises(AccessError):
            self.federation.with_user(self.treasurer).write({"name": "Renamed"})

    def test_more_organisations_and_the_federation_manager(self):
        self.treasurer.membook_organisation_ids |= self.club_2
        self.assertEqual(
            self._seen(self.treasurer, "membook.settlement"), self.settlement_1 | self.settlement_2
        )
        everything = self.settlement_1 | self.settlement_2
        self.assertEqual(self._seen(self.manager, "membook.settlement"), everything)
        self.assertIn(self.payment_unassigned, self._seen(self.manager, "membook.bank.payment"))
        # A manager who is also a treasurer still sees all.
        self.manager.group_ids |= self.env.ref("membook_membership.group_membook_treasurer")
        self.manager.membook_organisation_ids = self.club
        self.assertEqual(self._seen(self.manager, "membook.settlement"), everything)
        self.assertIn(self.member_2, self._seen(self.manager, "res.partner"))
