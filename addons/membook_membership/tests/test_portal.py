# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingHttpCommon

from .common import MembookBillingCommon


@tagged("post_install", "-at_install")
class TestPortal(MembookBillingCommon, AccountTestInvoicingHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        portal = cls.env.ref("base.group_portal")
        Users = cls.env["res.users"].with_context(no_reset_password=True)
        for login, member in (("member-a", cls.member_a), ("member-b", cls.member_other)):
            Users.create(
                {
                    "login": login,
                    "password": f"{login}-pass-2026",
                    "partner_id": member.id,
                    "group_ids": [(6, 0, portal.ids)],
                }
            )
        cls.invoices = {}
        for member in (cls.member_a, cls.member_other):
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
            cls.invoices[member] = invoice

    def test_member_sees_own_membership_only(self):
        self.authenticate("member-a", "member-a-pass-2026")
        response = self.url_open("/my/membership")
        self.assertEqual(response.status_code, 200)
        page = response.text
        self.assertIn(self.member_a.member_number, page)
        self.assertIn("Tampere Ski Club", page)
        self.assertIn(self.invoices[self.member_a].name, page)
        self.assertNotIn(self.member_other.name, page)
        self.assertNotIn(self.member_other.member_number, page)
        self.assertNotIn(self.invoices[self.member_other].name, page)

    def test_member_cannot_open_another_members_invoice(self):
        self.authenticate("member-a", "member-a-pass-2026")
        own = self.url_open(f"/my/invoices/{self.invoices[self.member_a].id}")
        self.assertEqual(own.status_code, 200)
        self.assertIn(self.invoices[self.member_a].name, own.text)
        other = self.invoices[self.member_other]
        response = self.url_open(f"/my/invoices/{other.id}")
        self.assertNotIn(other.name, response.text)
        self.assertTrue(response.url.endswith("/my"), response.url)

    def test_portal_home_links_membership(self):
        self.authenticate("member-b", "member-b-pass-2026")
        response = self.url_open("/my/membership")
        self.assertIn("Pirkanmaa District", response.text)
        self.assertNotIn(self.member_a.member_number, response.text)
