# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from unittest.mock import patch

from odoo.tests import new_test_user, tagged
from odoo.tests.common import ChromeBrowser

from .common import SANDBOX_TIMEOUT, MembookPaytrailCommon

# The tester on the sandbox's payment page (another origin, where no tour runs): pick a bank.
PICK_A_BANK = """
if (location.origin === %(origin)r) {
    document.addEventListener("DOMContentLoaded", () => {
        const bank = document.querySelector("button.bank[value=nordea]");
        if (bank) {
            console.info("Paytrail sandbox: paying with", bank.textContent);
            bank.click();
        }
    });
}
"""


@tagged("post_install", "-at_install")
class TestPaytrailPortalTour(MembookPaytrailCommon):
    def test_member_pays_fee_invoice_through_paytrail(self):
        member = self.member_a
        new_test_user(
            self.env,
            login="paytrail-member",
            name=member.name,
            groups="base.group_portal",
            partner_id=member.id,
        )
        invoice = self._fee_invoice(member)
        # Let the dummy provider of the payment tests not offer itself to the member.
        self.dummy_provider.state = "disabled"
        script = PICK_A_BANK % {"origin": self.sandbox.url}
        navigate_to = ChromeBrowser.navigate_to

        def navigate_with_tester(browser, url, wait_stop=False):
            browser._websocket_request(
                "Page.addScriptToEvaluateOnNewDocument", params={"source": script}
            )
            return navigate_to(browser, url, wait_stop=wait_stop)

        # Paytrail's server-to-server callback carries no test cookie; let it in.
        self.http_request_allow_all = True
        self.addCleanup(setattr, self, "http_request_allow_all", False)
        with patch.object(ChromeBrowser, "navigate_to", navigate_with_tester):
            self.start_tour(
                "/my/invoices", "membook_paytrail_portal_pay_tour", login="paytrail-member"
            )
        self._wait_callbacks()
        self.assertTrue(self.sandbox.wait_callbacks(SANDBOX_TIMEOUT))
        tx = invoice.transaction_ids
        self.assertEqual((tx.provider_id, tx.state), (self.paytrail, "done"))
        [paid] = [p for p in self._sandbox_state()["payments"] if p["stamp"] == tx.reference]
        self.assertEqual((paid["status"], paid["provider"], paid["amount"]), ("ok", "nordea", 6000))
        callbacks = [c for c in self._sandbox_state()["callbacks"] if c["kind"] == "callback"]
        self.assertEqual([c["status"] for c in callbacks], [200])
        # Reconciled: the invoice's receivable with the payment booked on the transit account.
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        receivable = invoice.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        self.assertTrue(receivable.reconciled)
        self.assertEqual(
            receivable.matched_credit_ids.credit_move_id.move_id, tx.payment_id.move_id
        )
        self.assertEqual(tx.payment_id.outstanding_account_id, self.transit_account)
        # Allocation over the hierarchy comes from reconciliation itself once the allocation
        # ledger is in; where it is, the 60.00 paid is split 25 / 10 / 25 by level.
        allocations = self.env["membook.allocation"].search([("invoice_id", "=", invoice.id)])
        if allocations:
            self.assertEqual(sum(allocations.mapped("amount")), 60.0)
            self.assertEqual(
                allocations.organisation_id, self.federation | self.district | self.club
            )
