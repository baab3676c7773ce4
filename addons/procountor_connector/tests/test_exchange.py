# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The outbox against a misbehaving Procountor: every fault here comes from the sandbox."""

import json
from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from nordic_billing.procountor import Credentials, ProcountorClient
from nordic_billing.sandbox.procountor import (
    DEFAULT_API_KEY,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
)

from .common import WEEK_DAY, D, ProcountorCase, VoucherRow


@tagged("post_install", "-at_install")
class TestExchange(ProcountorCase):
    def club_voucher(self, amount="25.00"):
        return self.queue([VoucherRow(self.club, self.fee, D(amount), WEEK_DAY)])

    def test_expired_token_is_renewed_between_pushes(self):
        exchanges = self.queue(self.fee_rows())
        exchanges[0].action_send()
        self.sandbox.state.expire_tokens()
        exchanges[1:].action_send()
        self.assertEqual(set(exchanges.mapped("state")), {"done"})
        self.assertEqual(len(self.requests_to("POST", "/oauth/token")), 2)
        self.assertEqual(len([r for r in self.sandbox.state.requests if r[2] == 401]), 1)

    def test_one_token_serves_many_pushes(self):
        self.queue(self.fee_rows()).action_send()
        self.assertEqual(len(self.requests_to("POST", "/oauth/token")), 1)

    def test_429_and_500_are_retried_without_a_duplicate(self):
        exchange = self.club_voucher()
        self.sandbox.faults.rate_limit(2, retry_after=0, method="POST", path="/ledgerreceipts")
        self.sandbox.faults.server_error(1, method="POST", path="/ledgerreceipts")
        exchange.action_send()
        self.assertEqual(exchange.state, "done")
        self.assertEqual(exchange.attempts, 1)
        self.assertEqual(
            [r[2] for r in self.requests_to("POST", "/ledgerreceipts")], [429, 429, 500, 200]
        )
        self.assertEqual(len(self.receipts()), 1)

    def test_procountor_down_backs_off(self):
        exchange = self.club_voucher()
        self.sandbox.faults.server_error(10, status=503)
        before = fields.Datetime.now()
        exchange.action_send()
        self.assertRecordValues(exchange, [{"state": "error", "retryable": True, "attempts": 1}])
        self.assertIn("could not be reached; it is tried again", exchange.error_message)
        self.assertGreaterEqual(exchange.next_try, before + timedelta(minutes=4))
        # Not due yet: the scheduled push leaves it alone.
        self.run_cron("ir_cron_procountor_push")
        self.assertEqual(exchange.attempts, 1)
        # Due again: sent.
        self.sandbox.faults.clear()
        exchange.next_try = fields.Datetime.now() - timedelta(seconds=1)
        self.run_cron("ir_cron_procountor_push")
        self.assertRecordValues(exchange, [{"state": "done", "attempts": 2, "retryable": False}])
        self.assertFalse(exchange.error_message)

    def test_400_shows_field_and_code_on_the_exchange(self):
        self.env["procountor.product.mapping"].create(self._mapping(self.youth_fee, None, "3100"))
        # 3100 is closed in Procountor after our last chart sync.
        for account in self.sandbox.state.environment().accounts:
            if account["ledgerAccountCode"] == "3100":
                account["active"] = False
        exchange = self.queue([VoucherRow(self.club, self.youth_fee, D("20.00"), WEEK_DAY)])
        self.run_cron("ir_cron_procountor_push")
        self.assertRecordValues(
            exchange,
            [
                {
                    "state": "error",
                    "error_field": "transactions[1].account",
                    "error_code": "ACCOUNT_INACTIVE",
                    "retryable": False,
                    "next_try": False,
                }
            ],
        )
        self.assertIn("transactions[1].account: ACCOUNT_INACTIVE", exchange.error_message)
        self.assertFalse(self.receipts())

    def test_403_on_vouchers_turns_them_off_until_tested_again(self):
        exchange = self.club_voucher()
        self.sandbox.state.add_api_user(DEFAULT_API_KEY, permissions={"coa"})
        exchange.action_send()
        self.assertRecordValues(exchange, [{"state": "error", "retryable": False}])
        self.assertIn("may not do this", exchange.error_message)
        self.assertEqual(self.backend.access_vouchers, "denied")
        self.run_cron("ir_cron_procountor_weekly_vouchers")
        self.assertIn("may not use memo vouchers", self.backend.sync_message)
        self.backend.action_test_connection()
        self.assertEqual(self.backend.access_vouchers, "denied")
        self.sandbox.state.add_api_user(DEFAULT_API_KEY)  # the right granted in Procountor
        self.backend.action_test_connection()
        self.assertEqual(self.backend.access_vouchers, "allowed")

    def test_request_breaking_the_contract_is_an_error_on_the_exchange(self):
        exchange = self.club_voucher()
        payload = json.loads(exchange.payload)
        payload["name"] = "x" * 81  # Procountor allows 80 characters
        exchange.payload = json.dumps(payload)
        exchange.action_send()
        self.assertEqual(exchange.state, "error")
        self.assertEqual(exchange.error_field, "name")
        self.assertTrue(exchange.error_code)
        self.assertFalse(exchange.retryable)
        self.assertFalse(self.receipts())

    def test_timeout_after_the_voucher_was_stored_does_not_duplicate_it(self):
        exchange = self.club_voucher()
        self.sandbox.faults.store_then_timeout(3.0)
        with self.short_timeouts():
            exchange.action_send()
        self.assertEqual(exchange.state, "done")
        receipts = self.receipts()
        self.assertEqual(len(receipts), 1)
        self.assertEqual(exchange.remote_id, receipts[0]["id"])
        self.assertEqual(len(self.requests_to("POST", "/ledgerreceipts")), 1)

    def test_unknown_outcome_is_resolved_by_lookup_on_the_next_run(self):
        exchange = self.club_voucher()
        faults = self.sandbox.faults
        faults.slow(0, 1, method="GET", path="/ledgerreceipts")  # the first look-up goes through
        faults.store_then_timeout(3.0)  # the voucher is stored, the answer never comes
        faults.server_error(4, method="GET", path="/ledgerreceipts")  # the look-up after fails
        with self.short_timeouts():
            self.run_cron("ir_cron_procountor_push")
        self.assertRecordValues(exchange, [{"state": "unknown", "retryable": True}])
        self.assertIn("look", exchange.error_message)
        self.assertEqual(len(self.receipts()), 1)

        exchange.next_try = fields.Datetime.now() - timedelta(seconds=1)
        self.run_cron("ir_cron_procountor_push")
        self.assertEqual(exchange.state, "done")
        self.assertEqual(exchange.remote_id, self.receipts()[0]["id"])
        self.assertEqual(len(self.receipts()), 1)
        self.assertEqual(len(self.requests_to("POST", "/ledgerreceipts")), 1)

    def test_worker_killed_mid_batch_leaves_nothing_twice(self):
        first, second, third = self.queue(self.fee_rows())
        # A worker sent the first and died before writing; the second it had not reached.
        credentials = Credentials(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_API_KEY)
        with ProcountorClient(credentials, self.sandbox.url, timeout=2) as client:
            client.create_ledger_receipt(first._procountor_payload())
        lease_over = fields.Datetime.now() - timedelta(seconds=1)
        (first | second).write({"state": "sending", "next_try": lease_over})
        # Another worker still holds the third (its lease runs).
        third._mark_sending()
        self.run_cron("ir_cron_procountor_push")
        self.assertEqual((first | second).mapped("state"), ["done", "done"])
        self.assertEqual(third.state, "sending")
        self.assertEqual(len(self.receipts()), 2)
        self.assertEqual(len(self.requests_to("POST", "/ledgerreceipts")), 2)

    def test_cron_run_twice_sends_once(self):
        exchanges = self.queue(self.fee_rows())
        self.run_cron("ir_cron_procountor_push")
        self.run_cron("ir_cron_procountor_push")
        self.assertEqual(set(exchanges.mapped("attempts")), {1})
        self.assertEqual(len(self.receipts()), 3)

    def test_state_is_written_on_an_unexpected_failure(self):
        exchange = self.club_voucher()
        exchange.payload = "{not json"
        with mute_logger("odoo.addons.procountor_connector.models.procountor_exchange"):
            exchange.action_send()
        self.assertEqual(exchange.state, "error")
        self.assertIn("JSONDecodeError", exchange.error_message)
        self.assertFalse(exchange.retryable)

    def test_unreachable_connection_without_credentials(self):
        exchange = self.club_voucher()
        self.backend.sudo().api_key = False
        exchange.action_send()
        self.assertEqual(exchange.state, "error")
        self.assertIn("API key", exchange.error_message)

    def test_exchange_that_may_be_in_procountor_cannot_be_deleted(self):
        exchange = self.club_voucher()
        exchange.action_send()
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            exchange.unlink()
        fresh = self.queue([VoucherRow(self.district, self.fee, D("10.00"), WEEK_DAY)])
        fresh.unlink()

    def test_exchanges_of_another_company_are_hidden(self):
        exchange = self.club_voucher()
        company_b = self.env["res.company"].create({"name": "Second Operator"})
        user = new_test_user(
            self.env,
            login="pc-b",
            groups="base.group_user,procountor_connector.group_procountor_user",
            company_id=company_b.id,
            company_ids=[(6, 0, company_b.ids)],
        )
        self.assertFalse(self.env["procountor.exchange"].with_user(user).search([]))
        user.write({"company_ids": [(4, self.env.company.id)], "company_id": self.env.company.id})
        self.assertIn(exchange, self.env["procountor.exchange"].with_user(user).search([]))
