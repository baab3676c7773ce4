# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from lxml import etree

from odoo.tests import new_test_user, tagged

from .common import ProcountorBillingCase


@tagged("post_install", "-at_install")
class TestSendButton(ProcountorBillingCase):
    def test_send_via_procountor_only_with_a_connection(self):
        user = new_test_user(
            self.env,
            login="pc-send-user",
            groups="account.group_account_invoice,procountor_connector.group_procountor_user",
        )
        invoice = self.init_invoice("out_invoice", amounts=[60.0], post=True).with_user(user)
        self.assertTrue(invoice.procountor_can_send)
        arch = etree.fromstring(invoice.get_views([(False, "form")])["views"]["form"]["arch"])
        (button,) = arch.xpath("//button[@name='action_procountor_transfer']")
        self.assertIn("not procountor_can_send", button.get("invisible"))
        self.backend.sudo().active = False
        invoice.invalidate_recordset(["procountor_can_send"])
        self.assertFalse(invoice.procountor_can_send)
