# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Who may do what: the credentials stay where a system administrator sent them, the payloads
are read by whoever may read their source, and every main button works for the least
privileged user who is shown it."""

from datetime import date
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import Form, new_test_user, tagged

from odoo.addons.base.tests.common import BaseCommon

from .common import D, ProcountorBillingCase, VoucherRow


@tagged("post_install", "-at_install")
class TestEndpoint(BaseCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.env["procountor.backend"].create(
            {
                "name": "Federation books",
                "environment": "custom",
                "custom_url": "http://127.0.0.1:9/api",
                "client_id": "client",
                "client_secret": "secret",
                "api_key": "key",
            }
        )
        cls.manager = new_test_user(
            cls.env,
            login="pc-endpoint-manager",
            groups="base.group_user,procountor_connector.group_procountor_manager",
        )
        cls.system = new_test_user(
            cls.env,
            login="pc-endpoint-system",
            groups="base.group_user,base.group_system,"
            "procountor_connector.group_procountor_manager",
        )

    def test_secrets_do_not_follow_a_new_url(self):
        backend = self.backend.with_user(self.manager)
        backend.write({"name": "Renamed", "timeout": 10.0})  # the rest stays editable
        self.assertFalse(backend.can_edit_endpoint)
        for vals in (
            {"custom_url": "https://attacker.example/api"},
            {"environment": "production"},
        ):
            with self.subTest(vals=vals), self.assertRaisesRegex(AccessError, "system admin"):
                backend.write(vals)
        backend.write({"environment": "custom"})  # the same value is no change
        self.assertEqual(self.backend.base_url, "http://127.0.0.1:9/api")
        as_system = self.backend.with_user(self.system)
        self.assertTrue(as_system.can_edit_endpoint)
        as_system.environment = "test"
        self.assertEqual(self.backend.base_url, "https://pts-api.procountor.com/api")


@tagged("post_install", "-at_install")
class TestLeastPrivilege(ProcountorBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.member_a.write(
            {
                "street": "Esimerkkikatu 1",
                "zip": "00100",
                "city": "Helsinki",
                "country_id": cls.env.ref("base.fi").id,
                "procountor_invoice_channel": "email",
            }
        )
        # Sees the outbox, transfers invoices: a Procountor user who is also an invoicing clerk.
        cls.clerk = new_test_user(
            cls.env,
            login="pc-clerk",
            groups="base.group_user,account.group_account_invoice,"
            "procountor_connector.group_procountor_user",
        )
        # Sees the outbox, may not read invoices.
        cls.outsider = new_test_user(
            cls.env,
            login="pc-outsider",
            groups="base.group_user,procountor_connector.group_procountor_user",
        )
        # Books the organisations' fees to their Procountor: reads the member register.
        cls.bookkeeper = new_test_user(
            cls.env,
            login="pc-bookkeeper",
            groups="base.group_user,membook_membership.group_membook_user,"
            "procountor_connector.group_procountor_user",
        )
        cls.manager = new_test_user(
            cls.env,
            login="pc-admin",
            groups="base.group_user,procountor_connector.group_procountor_manager",
        )

    def _invoice(self):
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.member_a.id,
                "invoice_date": date(2026, 11, 20),
                "invoice_date_due": date(2026, 12, 4),
                "invoice_line_ids": [
                    (0, 0, {"product_id": self.fee.id, "price_unit": 60.0, "tax_ids": []})
                ],
            }
        )
        move.action_post()
        return move

    def _exchanges(self, move):
        return self.env["procountor.exchange"].search(
            [("res_model", "=", "account.move"), ("res_id", "=", move.id)]
        )

    def test_clerk_transfers_and_sends_an_invoice(self):
        move = self._invoice().with_user(self.clerk)
        result = move.action_procountor_transfer()
        self.assertEqual(result["type"], "ir.actions.client")
        exchange = self._exchanges(move).with_user(self.clerk)
        self.assertEqual(exchange.state, "new")
        self.assertIs(exchange.action_send(), True)
        self.assertEqual(exchange.state, "done")
        self.assertEqual(exchange.action_view_source()["res_id"], move.id)
        self.assertTrue(move.action_view_procountor_exchanges())
        self.assertTrue(move.procountor_invoice_id, "the invoice is in Procountor")

    def test_payload_is_read_by_whoever_reads_the_invoice(self):
        move = self._invoice()
        move.action_procountor_transfer()
        exchange = self._exchanges(move)
        self.assertIn(self.member_a.name, exchange.payload)
        as_clerk = exchange.with_user(self.clerk)
        self.assertEqual(as_clerk.payload_shown, exchange.payload)
        as_outsider = exchange.with_user(self.outsider)
        self.assertEqual(as_outsider.external_key, move.name, "the outbox itself is seen")
        self.assertTrue(as_outsider.has_payload)
        self.assertFalse(as_outsider.payload_shown)
        with self.assertRaises(AccessError):
            as_outsider.read(["payload"])
        with self.assertRaises(AccessError):
            as_clerk.read(["payload"])

    def test_procountor_user_builds_and_sends_a_memo_voucher(self):
        self.federation.ref, self.district.ref, self.club.ref = "LIITTO", "PIIRI", "SEURA"
        self.backend.with_user(self.manager).action_sync_chart()
        account = {a.code: a for a in self.backend.account_ids}
        self.backend.clearing_account_id = account["1710"]
        self.env["procountor.product.mapping"].create(
            {
                "backend_id": self.backend.id,
                "product_id": self.fee.id,
                "account_id": account["3000"].id,
            }
        )
        day = date(2026, 11, 18)
        rows = [VoucherRow(self.club, self.fee, D("25.00"), day)]
        backend = self.backend.with_user(self.bookkeeper)
        action = backend.action_build_vouchers()
        with patch.object(
            type(self.backend), "_procountor_voucher_rows", lambda backend, start, end: rows
        ):
            form = Form(
                self.env[action["res_model"]]
                .with_user(self.bookkeeper)
                .with_context(action["context"])
            )
            form.day = day
            wizard = form.save()
            self.assertEqual(wizard.action_preview()["res_id"], wizard.id)
            self.assertFalse(wizard.problems)
            wizard.send_now = True
            result = wizard.action_create()
        exchanges = self.env["procountor.exchange"].search(result["domain"])
        self.assertEqual(exchanges.mapped("state"), ["done"])
        self.assertIn("SEURA", exchanges.with_user(self.bookkeeper).payload_shown)
        self.assertFalse(exchanges.with_user(self.outsider).payload_shown)
        self.assertTrue(backend.action_view_exchanges())

    def test_administrator_tests_the_connection(self):
        result = self.backend.with_user(self.manager).action_test_connection()
        self.assertEqual(result["params"]["type"], "success")
        self.assertEqual(self.backend.access_vouchers, "allowed")
