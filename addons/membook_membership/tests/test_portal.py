# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re

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

    def _csrf(self):
        page = self.url_open("/my/membership").text
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def test_member_updates_own_contact_details_only(self):
        self.authenticate("member-a", "member-a-pass-2026")
        other_before = self.member_other.read(["name", "email", "phone", "street", "city"])
        response = self.url_open(
            "/my/membership",
            data={
                "csrf_token": self._csrf(),
                "email": " Aino.New@Example.com ",
                "phone": "+358 40 123 4567",
                "street": "Hämeenkatu 1",
                "zip": "33100",
                "city": "Tampere",
                # Not fields of the form: ignored, whoever's id they name.
                "partner_id": self.member_other.id,
                "id": self.member_other.id,
                "name": "Changed Name",
                "member_number": "X-1",
                "is_member": "",
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.url.endswith("/my/membership?updated=1"), response.url)
        self.assertIn("Your contact details are saved.", response.text)
        self.member_a.invalidate_recordset()
        self.assertRecordValues(
            self.member_a,
            [
                {
                    "name": "Aino Member",
                    "email": "aino.new@example.com",
                    "phone": "+358 40 123 4567",
                    "street": "Hämeenkatu 1",
                    "zip": "33100",
                    "city": "Tampere",
                    "is_member": True,
                }
            ],
        )
        self.member_other.invalidate_recordset()
        self.assertEqual(
            self.member_other.read(["name", "email", "phone", "street", "city"]), other_before
        )

    def test_contact_details_refuse_a_bad_or_taken_email(self):
        self.authenticate("member-a", "member-a-pass-2026")
        for email, message in (
            ("not an address", "Enter a valid e-mail address."),
            ("Other@example.com", "This e-mail address is already in use"),
        ):
            with self.subTest(email):
                response = self.url_open(
                    "/my/membership",
                    data={"csrf_token": self._csrf(), "email": email, "city": "Turku"},
                )
                self.assertEqual(response.status_code, 200)
                self.assertIn(message, response.text)
                self.member_a.invalidate_recordset()
                self.assertEqual(self.member_a.email, "aino@example.com")
                self.assertFalse(self.member_a.city)

    def test_contact_form_needs_the_session_token(self):
        self.authenticate("member-a", "member-a-pass-2026")
        with self.assertLogs("odoo.http", "WARNING") as logs:
            response = self.url_open("/my/membership", data={"email": "x@example.com"})
        self.assertEqual(response.status_code, 400)
        self.assertIn("No CSRF validation token", logs.output[0])
        self.member_a.invalidate_recordset()
        self.assertEqual(self.member_a.email, "aino@example.com")

    def test_pay_now_opens_the_invoice_portal_page(self):
        self.authenticate("member-a", "member-a-pass-2026")
        invoice = self.invoices[self.member_a]
        page = self.url_open("/my/membership").text
        link = re.search(r'href="([^"]+)"[^>]*>Pay now<', page)
        self.assertTrue(link, "no Pay now link")
        self.assertEqual(link.group(1).replace("&amp;", "&"), invoice.get_portal_url())
        response = self.url_open(link.group(1).replace("&amp;", "&"))
        self.assertEqual(response.status_code, 200)
        self.assertIn(invoice.name, response.text)
        self.assertNotIn("data-provider-id=", response.text)

    def test_pay_now_page_offers_the_enabled_provider(self):
        """Whichever payment provider is enabled (Paytrail, when installed) is offered on the page
        Pay now opens; here a provider without a module of its own stands in for it."""
        method = self.env.ref("payment.payment_method_unknown")
        provider = self.env["payment.provider"].create(
            {
                "name": "Online bank payment",
                "code": "none",
                "state": "test",
                "is_published": True,
                "payment_method_ids": [(6, 0, method.ids)],
                "available_currency_ids": [(6, 0, self.invoices[self.member_a].currency_id.ids)],
            }
        )
        method.active = True  # once a provider offering it is enabled
        self.authenticate("member-a", "member-a-pass-2026")
        response = self.url_open(self.invoices[self.member_a].get_portal_url())
        self.assertEqual(response.status_code, 200)
        self.assertIn(f'data-provider-id="{provider.id}"', response.text)
