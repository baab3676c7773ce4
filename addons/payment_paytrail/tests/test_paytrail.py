# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import requests

from odoo.exceptions import AccessError, ValidationError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from nordic_billing import paytrail

from ..models.payment_transaction import CALLBACK_URL, RETURN_URL
from .common import SANDBOX_TIMEOUT, PaytrailCommon

# The documented redirect example of Paytrail's API documentation, for the public test merchant.
VECTOR = {
    "checkout-account": "375917",
    "checkout-algorithm": "sha256",
    "checkout-amount": "2964",
    "checkout-stamp": "15336332710015",
    "checkout-reference": "192387192837195",
    "checkout-transaction-id": "4b300af6-9a22-11e8-9184-abb6de7fd2d0",
    "checkout-status": "ok",
    "checkout-provider": "nordea",
    "signature": "b2d3ecdda2c04563a4638fcade3d4e77dfdc58829b429ad2c2cb422d0fc64080",
}


@tagged("post_install", "-at_install")
class TestPaytrail(PaytrailCommon):
    def test_signature_vector(self):
        data = self.paytrail._paytrail_parse_return(VECTOR)
        self.assertEqual((data.amount_cents, data.status), (2964, "ok"))
        with self.assertRaises(paytrail.SignatureError):
            self.paytrail._paytrail_parse_return({**VECTOR, "checkout-amount": "2965"})

    def test_payment_created_at_paytrail(self):
        tx = self._paytrail_tx()
        [payment] = self._sandbox_state()["payments"]
        self.assertEqual(payment["transactionId"], tx.provider_reference)
        self.assertEqual((payment["amount"], payment["stamp"]), (6000, tx.reference))
        self.assertTrue(payment["callbackUrls"]["success"].endswith(CALLBACK_URL))
        self.assertTrue(payment["redirectUrls"]["success"].endswith(RETURN_URL))

    def test_callback_and_redirect_change_the_transaction_once(self):
        tx = self._paytrail_tx()
        result = self._complete(tx)
        self.assertEqual(result["callback"]["status"], 200)
        self.assertEqual(tx.state, "done")
        changed = tx.last_state_change
        # The browser comes back afterwards, and Paytrail calls the callback again.
        back = self._get(RETURN_URL, result["params"])
        self.assertEqual(back.status_code, 303)
        self.assertTrue(back.headers["Location"].endswith("/payment/status"))
        self.assertEqual(self._get(CALLBACK_URL, result["params"]).status_code, 200)
        self.assertEqual((tx.state, tx.last_state_change), ("done", changed))

    def test_redirect_first_then_callback(self):
        tx = self._paytrail_tx()
        result = self._complete(tx, callback=False)
        self.assertEqual(tx.state, "draft")
        self.assertEqual(self._get(RETURN_URL, result["params"]).status_code, 303)
        self.assertEqual(tx.state, "done")
        changed = tx.last_state_change
        self.assertEqual(self._get(CALLBACK_URL, result["params"]).status_code, 200)
        self.assertEqual((tx.state, tx.last_state_change), ("done", changed))

    def test_replayed_callback_changes_nothing(self):
        tx = self._paytrail_tx()
        result = self._complete(tx)
        tx._post_process()
        payment = tx.payment_id
        self.assertTrue(payment)
        for _attempt in range(2):
            self.assertEqual(self._get(CALLBACK_URL, result["params"]).status_code, 200)
        tx._post_process()
        self.assertEqual(tx.payment_id, payment)
        self.assertEqual(
            self.env["account.payment"].search_count([("payment_transaction_id", "=", tx.id)]), 1
        )

    def test_unknown_parameters_are_tolerated(self):
        requests.post(
            f"{self.sandbox.url}/_sandbox/config",
            json={"extra_params": {"checkout-new-field": "something"}},
            timeout=5,
        ).raise_for_status()
        tx = self._paytrail_tx()
        result = self._complete(tx)
        self.assertIn("checkout-new-field", result["params"])
        self.assertEqual(tx.state, "done")

    @mute_logger("odoo.addons.payment_paytrail.controllers.main")
    def test_tampered_signature_is_refused(self):
        tx = self._paytrail_tx()
        result = self._complete(tx, callback=False)
        tampered = [
            {**result["params"], "checkout-amount": "1"},
            {**result["params"], "checkout-status": "fail"},
            {**result["params"], "signature": "0" * 64},
            {k: v for k, v in result["params"].items() if k != "signature"},
            # signed, but with another merchant's secret
            {
                **result["params"],
                "signature": paytrail.sign("MONISAIPPUAKAUPPIAS", result["params"]),
            },
        ]
        for params in tampered:
            for path in (CALLBACK_URL, RETURN_URL):
                self.assertEqual(self._get(path, params).status_code, 400, params)
        self.assertEqual(tx.state, "draft")
        self.assertFalse(tx.state_message)
        # The genuine one still goes through.
        self.assertEqual(self._get(CALLBACK_URL, result["params"]).status_code, 200)
        self.assertEqual(tx.state, "done")

    def test_amount_mismatch(self):
        invoice = self.init_invoice("out_invoice", partner=self.partner, amounts=[60.0], post=True)
        tx = self._paytrail_tx(invoice_ids=[(6, 0, invoice.ids)])
        result = self._complete(tx, callback=False)
        # Paytrail (with the right secret) says another amount was paid.
        params = {**result["params"], "checkout-amount": "5900"}
        params["signature"] = paytrail.sign(paytrail.TEST_SECRET, params)
        self.assertEqual(self._get(CALLBACK_URL, params).status_code, 200)
        self.assertEqual(tx.state, "error")
        self.assertIn("59.00 EUR", tx.state_message)
        self.assertIn("60.00 EUR", tx.state_message)
        tx._post_process()
        self.assertFalse(tx.payment_id)
        self.assertEqual(invoice.payment_state, "not_paid")
        # The genuine answer afterwards changes nothing either: a person looks at it.
        self.assertEqual(self._get(CALLBACK_URL, result["params"]).status_code, 200)
        self.assertEqual(tx.state, "error")

    def test_cancel(self):
        tx = self._paytrail_tx()
        self._complete(tx, status="fail")
        self.assertEqual(tx.state, "cancel")
        self.assertIn("cancelled", tx.state_message)

    def test_pending_then_ok(self):
        tx = self._paytrail_tx()
        pending = self._complete(tx, status="pending")
        self.assertEqual(tx.state, "pending")
        # The pending redirect again: still pending, no error.
        self.assertEqual(self._get(RETURN_URL, pending["params"]).status_code, 303)
        self.assertEqual(tx.state, "pending")
        self._complete(tx, status="ok")
        self.assertEqual(tx.state, "done")

    def test_refund(self):
        invoice = self.init_invoice("out_invoice", partner=self.partner, amounts=[60.0], post=True)
        tx = self._paytrail_tx(invoice_ids=[(6, 0, invoice.ids)])
        self._complete(tx)
        tx._post_process()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        accountant = new_test_user(
            self.env,
            login="paytrail-accountant",
            groups="account.group_account_manager",
            company_id=self.env.company.id,
        )
        wizard = (
            self.env["payment.refund.wizard"]
            .with_user(accountant)
            .with_context(active_model="account.payment", active_id=tx.payment_id.id)
            .create({"payment_id": tx.payment_id.id, "amount_to_refund": 25.0})
        )
        wizard.action_refund()
        self._wait_callbacks()
        refund_tx = tx.child_transaction_ids
        self.assertEqual((refund_tx.operation, refund_tx.state), ("refund", "done"))
        self.assertEqual(refund_tx.amount, -25.0)
        [refund] = self._sandbox_state()["refunds"]
        self.assertEqual((refund["amount"], refund["stamp"]), (2500, refund_tx.reference))
        self.assertEqual(refund_tx.provider_reference, refund["transactionId"])
        callbacks = [c for c in self._sandbox_state()["callbacks"] if c["kind"] == "callback"]
        self.assertTrue(callbacks and all(c["status"] == 200 for c in callbacks))
        refund_tx._post_process()
        self.assertEqual(refund_tx.payment_id.payment_type, "outbound")
        self.assertEqual(refund_tx.payment_id.amount, 25.0)

    def test_settlement_lookup(self):
        paid = self._paytrail_tx()
        self._complete(paid)
        other = self._paytrail_tx(reference="Other Transaction", amount=30.0)
        self._complete(other)
        response = requests.post(
            f"{self.sandbox.url}/_sandbox/settlements",
            json={"transactions": [paid.provider_reference]},
            timeout=SANDBOX_TIMEOUT,
        )
        settlement = response.json()
        found, transactions = self.paytrail._paytrail_find_settlement(
            settlement["settlementReference"]
        )
        self.assertEqual(found["id"], settlement["id"])
        self.assertEqual(transactions, paid)
        self.assertEqual(self.paytrail._paytrail_find_settlement("13")[1], transactions.browse())

    def test_credentials_for_system_administrators_only(self):
        self.paytrail.write({"paytrail_merchant_id": "123456", "paytrail_secret": "SECRET"})
        accountant = new_test_user(
            self.env, login="paytrail-reader", groups="account.group_account_manager"
        )
        provider = self.paytrail.with_user(accountant)
        with self.assertRaises(AccessError):
            provider.read(["paytrail_secret"])
        with self.assertRaises(AccessError):
            provider.read(["paytrail_merchant_id"])
        self.assertEqual(self.paytrail.paytrail_secret, "SECRET")
        # Test mode signs with the public test merchant, whatever is entered.
        self.assertEqual(
            self.paytrail._paytrail_credentials(),
            (paytrail.TEST_MERCHANT_ID, paytrail.TEST_SECRET),
        )
        self.paytrail.state = "enabled"
        self.assertEqual(self.paytrail._paytrail_credentials(), ("123456", "SECRET"))

    def test_enabled_needs_credentials(self):
        with self.assertRaises(ValidationError):
            self.paytrail.state = "enabled"

    def test_neutralize(self):
        self.paytrail.write({"paytrail_merchant_id": "123456", "paytrail_secret": "SECRET"})
        self.env.flush_all()
        for query in get_neutralization_queries(["payment_paytrail"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        self.assertFalse(self.paytrail.paytrail_merchant_id)
        self.assertFalse(self.paytrail.paytrail_secret)
        self.assertEqual(self.paytrail.paytrail_api_url, paytrail.BASE_URL)
