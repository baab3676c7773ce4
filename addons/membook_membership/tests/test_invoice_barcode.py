# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
import struct
from datetime import date

from lxml import html
from reportlab.graphics.barcode.code128 import Code128

from odoo.tests import new_test_user, tagged

from odoo.addons.account.tests.common import (
    AccountTestInvoicingCommon,
    AccountTestInvoicingHttpCommon,
)

from .common import MembookBillingCommon

# Finance Finland's bank barcode guide ("Pankkiviivakoodi-opas", version 5.3), example invoice 3:
# account FI02 5000 4640 0013 02, 693.80 EUR, due 24.7.2011, with the national reference
# 69 87567 20834 35364 (version 4) or RF02 6987 5672 0834 (version 5). The 54 digits and the
# Code 128 check character (14) of the version-4 symbol are the guide's.
GUIDE_IBAN = "FI02 5000 4640 0013 02"
GUIDE_V4 = "402500046400013020006938000000069875672083435364110724"
GUIDE_V5 = "502500046400013020006938002000000000698756720834110724"
GUIDE_V4_CODE128_CHECK = 14


@tagged("post_install", "-at_install")
class TestInvoiceBarcode(MembookBillingCommon, AccountTestInvoicingHttpCommon):
    @classmethod
    @AccountTestInvoicingCommon.setup_country("fi")
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.env.ref("base.EUR")
        cls.bank = cls.env["res.partner.bank"].create(
            {"acc_number": GUIDE_IBAN, "partner_id": cls.company.partner_id.id}
        )
        cls.billing_user = new_test_user(
            cls.env, login="membook-billing", groups="base.group_user,account.group_account_invoice"
        )
        cls.invoice_v4 = cls._guide_invoice("69 87567 20834 35364")
        cls.invoice_v5 = cls._guide_invoice("RF02 6987 5672 0834")
        cls.env["res.users"].with_context(no_reset_password=True).create(
            {
                "login": "member-barcode",
                "password": "member-barcode-pass-2026",
                "partner_id": cls.member_a.id,
                "group_ids": [(6, 0, cls.env.ref("base.group_portal").ids)],
            }
        )

    @classmethod
    def _guide_invoice(cls, reference, **values):
        invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.member_a.id,
                "currency_id": cls.eur.id,
                "invoice_date": date(2011, 7, 1),
                "invoice_date_due": date(2011, 7, 24),
                "partner_bank_id": cls.bank.id,
                "payment_reference": reference,
                "invoice_line_ids": [
                    (0, 0, {"product_id": cls.fee.id, "price_unit": 693.80, "tax_ids": []})
                ],
                **values,
            }
        )
        invoice.action_post()
        return invoice

    def _report_html(self, invoice, user=None):
        report = self.env.ref("account.account_invoices").with_user(user or self.billing_user)
        # Odoo renders HTML instead of a PDF while testing; the PDF is printed from that HTML.
        content, kind = report._render_qweb_pdf("account.account_invoices", invoice.ids)
        self.assertEqual(kind, "html")
        return content.decode()

    def test_known_invoices_carry_the_guides_barcode(self):
        moves = (self.invoice_v4 | self.invoice_v5).with_user(self.billing_user)
        self.assertEqual(moves.mapped("membook_virtual_barcode"), [GUIDE_V4, GUIDE_V5])
        self.assertEqual(moves.mapped("membook_virtual_barcode_issue"), [False, False])

    def test_pdf_prints_the_digits_and_their_code_128(self):
        page = self._report_html(self.invoice_v4)
        block = html.fromstring(page).xpath("//div[@id='membook_virtual_barcode']")
        self.assertEqual(len(block), 1)
        self.assertEqual(
            block[0].xpath(".//span[contains(@class, 'o_membook_virtual_barcode')]")[0].text,
            GUIDE_V4,
        )
        # ... with the printed Code 128 image of those digits (the widget names it by its value)
        img = block[0].xpath(".//img")[0]
        self.assertTrue(img.get("src").startswith("data:image/png;base64,"))
        self.assertIn(GUIDE_V4, img.get("alt"))
        png = base64.b64decode(img.get("src").split(",", 1)[1])
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        self.assertEqual(struct.unpack(">II", png[16:24]), (1400, 180))
        # ... in code set C: start C (105), the digits in pairs, the guide's check character, stop.
        symbol = Code128(value=GUIDE_V4)
        symbol.validate()
        symbol.encode()
        pairs = [int(GUIDE_V4[i : i + 2]) for i in range(0, 54, 2)]
        self.assertEqual(symbol.encoded, [105, *pairs, GUIDE_V4_CODE128_CHECK, 106])

    def test_epc_qr_code_shown_where_allowed(self):
        self.company.qr_code = True
        page = self._report_html(self.invoice_v5)
        tree = html.fromstring(page)
        self.assertTrue(tree.xpath("//div[@id='qrcode']//img"))
        self.assertIn(GUIDE_V5, page)
        self.assertEqual(self.invoice_v5.qr_code_method, "sct_qr")
        self.company.qr_code = False
        self.env.invalidate_all()  # display_qr_code is computed from the company, not stored
        page = self._report_html(self.invoice_v5)
        self.assertFalse(html.fromstring(page).xpath("//div[@id='qrcode']"))
        self.assertIn(GUIDE_V5, page)

    def test_what_cannot_be_encoded_is_explained_not_printed(self):
        german = self.env["res.partner.bank"].create(
            {"acc_number": "DE89 3704 0044 0532 0130 00", "partner_id": self.company.partner_id.id}
        )
        cases = {
            "not a Finnish IBAN": self._guide_invoice("1232", partner_bank_id=german.id),
            "euros only": self._guide_invoice(
                "1232", currency_id=self.setup_other_currency("SEK").id
            ),
            "too large": self._guide_invoice(
                "1232",
                invoice_line_ids=[
                    (0, 0, {"product_id": self.fee.id, "price_unit": 1000000.0, "tax_ids": []})
                ],
            ),
            "no bank account": self._guide_invoice("1232", partner_bank_id=False),
        }
        for message, invoice in cases.items():
            with self.subTest(message):
                invoice = invoice.with_user(self.billing_user)
                self.assertFalse(invoice.membook_virtual_barcode)
                self.assertIn(message, invoice.membook_virtual_barcode_issue)
                page = self._report_html(invoice)
                self.assertFalse(
                    html.fromstring(page).xpath("//div[@id='membook_virtual_barcode']")
                )

    def test_paid_invoice_has_no_barcode(self):
        invoice = self._guide_invoice("1232")
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({})._create_payments()
        invoice = invoice.with_user(self.billing_user)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertFalse(invoice.membook_virtual_barcode)
        self.assertFalse(invoice.membook_virtual_barcode_issue)

    def test_fee_email_carries_the_barcode(self):
        template = self.env.ref("membook_membership.mail_template_membership_invoice")
        self.assertFalse(
            template._has_unsafe_expression_template_qweb(template.body_html, "account.move")
        )
        template.with_user(self.billing_user).send_mail(self.invoice_v4.id)
        mail = self.env["mail.mail"].search([("res_id", "=", self.invoice_v4.id)])
        self.assertEqual(len(mail), 1)
        self.assertIn(GUIDE_V4, mail.body_html)
        self.assertIn("Virtual barcode", mail.body_html)

    def test_member_sees_the_barcode_on_the_portal_invoice(self):
        self.authenticate("member-barcode", "member-barcode-pass-2026")
        response = self.url_open(f"/my/invoices/{self.invoice_v4.id}?report_type=html")
        self.assertEqual(response.status_code, 200)
        self.assertIn(GUIDE_V4, response.text)
