# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from odoo.exceptions import UserError
from odoo.tests import tagged

from nordic_billing.sandbox.procountor import LEAST_PRIVILEGE_API_KEY

from .common import D, ProcountorBillingCase, VoucherRow

ADDRESS = {"street": "Esimerkkikatu 1", "zip": "00100", "city": "Helsinki"}


@tagged("post_install", "-at_install")
class TestInvoices(ProcountorBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.member_a.write(
            {
                **ADDRESS,
                "country_id": cls.env.ref("base.fi").id,
                "procountor_invoice_channel": "email",
            }
        )

    def invoice(self, partner=None, price=60.0):
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": (partner or self.member_a).id,
                "invoice_date": date(2026, 11, 20),
                "invoice_date_due": date(2026, 12, 4),
                "invoice_line_ids": [
                    (0, 0, {"product_id": self.fee.id, "price_unit": price, "tax_ids": []})
                ],
            }
        )
        move.action_post()
        return move

    def remote(self, move):
        return self.sandbox.state.environment().invoices[move.procountor_invoice_id]

    def transfer(self, move):
        move.action_procountor_transfer()
        self.run_cron("ir_cron_procountor_push")

    def test_transfer_approve_send_then_paid_in_odoo(self):
        move = self.invoice()
        move.action_procountor_transfer()
        exchange = self.env["procountor.exchange"].search(
            [("res_model", "=", "account.move"), ("res_id", "=", move.id)]
        )
        self.assertRecordValues(exchange, [{"kind": "invoice", "state": "new"}])
        self.assertEqual(exchange.external_key, move.name)
        self.run_cron("ir_cron_procountor_push")
        exchanges = self.env["procountor.exchange"].search(
            [("res_model", "=", "account.move"), ("res_id", "=", move.id)]
        )
        self.assertEqual(
            sorted(exchanges.mapped(lambda e: (e.kind, e.state))),
            [("invoice", "done"), ("invoice_send", "done")],
        )
        remote = self.remote(move)
        self.assertEqual(remote["status"], "SENT")
        self.assertEqual(remote["invoiceChannel"], "EMAIL")
        self.assertEqual(remote["originalInvoiceNumber"], move.name)
        self.assertEqual(remote["counterParty"]["customerNumber"], self.member_a.member_number)
        self.assertEqual(self.sandbox.state.environment().sent, {move.procountor_invoice_id: 1})
        self.assertEqual(move.procountor_status, "SENT")
        self.assertEqual(move.procountor_exchange_count, 2)

        self.sandbox.state.add_payment(move.procountor_invoice_id, payment_date=date(2026, 12, 1))
        self.run_cron("ir_cron_procountor_poll")
        self.assertIn(move.payment_state, ("paid", "in_payment"))
        self.assertEqual(move.procountor_status, "PAID")
        self.assertEqual(move.procountor_paid_amount, 60.0)
        payment = move.matched_payment_ids
        self.assertEqual(payment.date, date(2026, 12, 1))
        self.assertEqual(payment.journal_id, self.backend.payment_journal_id)
        # Polling again registers nothing more.
        self.run_cron("ir_cron_procountor_poll")
        self.assertEqual(len(move.matched_payment_ids), 1)
        self.assertFalse(self.backend.sync_message)

    def test_partial_payment_then_the_rest(self):
        move = self.invoice()
        self.transfer(move)
        self.sandbox.state.add_payment(move.procountor_invoice_id, D("20.00"))
        self.run_cron("ir_cron_procountor_poll")
        self.assertEqual(move.payment_state, "partial")
        self.assertEqual(move.amount_residual, 40.0)
        self.sandbox.state.add_payment(move.procountor_invoice_id)
        self.run_cron("ir_cron_procountor_poll")
        self.assertIn(move.payment_state, ("paid", "in_payment"))
        self.assertEqual(len(move.matched_payment_ids), 2)

    def test_transfer_twice_queues_once(self):
        move = self.invoice()
        move.action_procountor_transfer()
        action = move.action_procountor_transfer()
        self.assertIn("0 invoice(s) queued", action["params"]["message"])
        self.run_cron("ir_cron_procountor_push")
        self.assertEqual(len(self.sandbox.state.environment().invoices), 1)

    def test_missing_channel_data_refuses_the_transfer(self):
        self.member_b.procountor_invoice_channel = "consumer_einvoice"
        good, bad = self.invoice(), self.invoice(self.member_b)
        with self.assertRaises(UserError) as caught:
            (good | bad).action_procountor_transfer()
        message = str(caught.exception)
        self.assertIn(bad.name, message)
        self.assertIn("e-invoice address", message)
        self.assertIn(
            "the Consumer e-invoice channel needs the address (street, postal code, city)", message
        )
        self.assertNotIn(good.name, message)
        self.assertFalse(self.env["procountor.exchange"].search([("kind", "=", "invoice")]))
        self.member_b.procountor_invoice_channel = False
        with self.assertRaisesRegex(UserError, "has no invoicing channel"):
            bad.action_procountor_transfer()

    def test_consumer_einvoice_and_direct_payment(self):
        self.member_b.write(
            {
                **ADDRESS,
                "procountor_invoice_channel": "consumer_einvoice",
                "procountor_einvoice_address": "FI7429501800000014",
                "procountor_einvoice_operator": "NDEAFIHH",
            }
        )
        self.member_a.procountor_invoice_channel = "direct_payment"
        einvoice, direct = self.invoice(self.member_b), self.invoice()
        (einvoice | direct).action_procountor_transfer()
        self.run_cron("ir_cron_procountor_push")
        remote = self.remote(einvoice)
        self.assertEqual(remote["invoiceChannel"], "ELECTRONIC_INVOICE")
        self.assertEqual(
            remote["counterParty"]["einvoiceAddress"],
            {"address": "FI7429501800000014", "operator": "NDEAFIHH"},
        )
        self.assertEqual(remote["billingAddress"]["zip"], "00100")
        remote = self.remote(direct)
        self.assertEqual(
            (remote["invoiceChannel"], remote["paymentInfo"]["paymentMethod"]),
            ("EMAIL", "DIRECT_PAYMENT"),
        )
        self.assertEqual((einvoice | direct).mapped("procountor_status"), ["SENT", "SENT"])

    def test_400_on_an_invoice_names_the_field(self):
        move = self.invoice()
        move.action_procountor_transfer()
        exchange = self.env["procountor.exchange"].search([("res_id", "=", move.id)])
        exchange.payload = exchange.payload.replace(
            '"dueDate": "2026-12-04"', '"dueDate": "2026-11-01"'
        )
        self.run_cron("ir_cron_procountor_push")
        self.assertRecordValues(
            exchange,
            [
                {
                    "state": "error",
                    "error_field": "paymentInfo.dueDate",
                    "error_code": "DUE_DATE_BEFORE_BILL_DATE",
                }
            ],
        )

    def test_channel_change_in_procountor_reaches_the_partner(self):
        self.member_a.procountor_customer_number = "M-1001"  # as in Procountor's register
        self.run_cron("ir_cron_procountor_poll")
        self.assertEqual(self.member_a.procountor_invoice_channel, "email")
        seen = self.backend.partner_version
        self.assertTrue(seen)
        state = self.sandbox.state
        maija = next(
            p for p in state.environment().partners.values() if p["name"].startswith("Maija")
        )
        # The member orders e-invoices in her bank; Procountor updates its register.
        state.set_invoicing_channel(
            maija["id"],
            "ELECTRONIC_INVOICE",
            einvoice_address="FI7429501800000014",
            einvoice_operator="NDEAFIHH",
        )
        self.run_cron("ir_cron_procountor_poll")
        self.assertRecordValues(
            self.member_a,
            [
                {
                    "procountor_invoice_channel": "consumer_einvoice",
                    "procountor_einvoice_address": "FI7429501800000014",
                    "procountor_einvoice_operator": "NDEAFIHH",
                }
            ],
        )
        self.assertGreater(self.backend.partner_version, seen)
        self.assertFalse(self.backend.sync_message)

    def test_customer_number_defaults_to_the_member_number(self):
        self.assertTrue(self.member_a.member_number)
        self.assertEqual(self.member_a.procountor_customer_number, self.member_a.member_number)

    def test_least_privilege_user_keeps_vouchers_and_turns_invoices_off(self):
        self.backend.sudo().api_key = LEAST_PRIVILEGE_API_KEY
        self.backend.action_test_connection()
        probed = len(self.sandbox.state.requests)
        move = self.invoice()
        with self.assertRaisesRegex(UserError, "may not use sales invoices"):
            move.action_procountor_transfer()
        self.run_cron("ir_cron_procountor_poll")
        self.assertIn("may not use sales invoices", self.backend.sync_message)
        self.assertIn("may not use the customer register", self.backend.sync_message)
        self.assertEqual(len(self.sandbox.state.requests), probed, "nothing asked that is off")

        # The memo vouchers of the same connection still go.
        self.backend._procountor_sync_chart()
        account = self.backend.account_ids.filtered(lambda a: a.code == "3000")
        self.env["procountor.product.mapping"].create(
            {"backend_id": self.backend.id, "product_id": self.fee.id, "account_id": account.id}
        )
        day = date(2026, 11, 18)
        drafts = self.backend._procountor_build_vouchers(
            [VoucherRow(self.club, self.fee, D("25.00"), day)], [], day
        )
        exchange = self.backend._procountor_queue_vouchers(drafts, day)
        self.run_cron("ir_cron_procountor_push")
        self.assertEqual(exchange.state, "done")

    def test_403_found_by_the_poll_turns_the_part_off(self):
        move = self.invoice()
        self.transfer(move)
        self.sandbox.state.add_api_user(
            "sandbox-api-key", permissions={"coa", "ledgerreceipts", "businesspartners"}
        )
        self.run_cron("ir_cron_procountor_poll")
        self.assertEqual(self.backend.access_invoices, "denied")
        self.assertIn("may not use sales invoices", self.backend.sync_message)
        calls = len(self.requests_to("GET", "/invoices"))
        self.run_cron("ir_cron_procountor_poll")
        self.assertEqual(len(self.requests_to("GET", "/invoices")), calls, "off until tested again")

    def test_three_levels_from_the_fee_splits_of_a_paid_invoice(self):
        """Rows made from the invoice's fee splits stand in for the bank-day allocations."""
        self.federation.ref, self.district.ref, self.club.ref = "LIITTO", "PIIRI", "SEURA"
        self.backend._procountor_sync_chart()
        account = {a.code: a for a in self.backend.account_ids}
        item = {i.code: i for i in self.backend.dimension_ids.item_ids}
        Mapping = self.env["procountor.product.mapping"]
        for organisation, code, items in (
            (self.federation, "3060", ("LIITTO", "JASENYYS")),
            (self.district, "3050", ("PIIRI",)),
            (self.club, "3000", ("SEURA", "JASENYYS")),
        ):
            Mapping.create(
                {
                    "backend_id": self.backend.id,
                    "product_id": self.fee.id,
                    "organisation_id": organisation.id,
                    "account_id": account[code].id,
                    "dimension_item_ids": [(6, 0, [item[c].id for c in items])],
                }
            )
        moves = self.invoice() | self.invoice(self.member_b) | self.invoice(self.member_other)
        day = date(2026, 11, 18)
        rows = [
            VoucherRow(split.organisation_id, split.product_id, D(str(split.amount)), day)
            for split in moves.membook_split_ids
        ]
        exchanges = self.backend._procountor_queue_vouchers(
            self.backend._procountor_build_vouchers(rows, [], day), day
        )
        self.run_cron("ir_cron_procountor_push")
        self.assertEqual(set(exchanges.mapped("state")), {"done"})
        receipts = {r["name"]: r for r in self.sandbox.state.environment().ledger_receipts.values()}
        totals = {
            name.rsplit(" ", 1)[1]: [
                (t["account"], t["accountingValue"]) for t in r["transactions"]
            ]
            for name, r in receipts.items()
        }
        # Two club members (25 / 10 / 25 each) and a district member (35 / 25).
        self.assertEqual(
            totals,
            {
                "LIITTO": [("1710", D("75.00")), ("3060", D("-75.00"))],
                "PIIRI": [("1710", D("55.00")), ("3050", D("-55.00"))],
                "SEURA": [("1710", D("50.00")), ("3000", D("-50.00"))],
            },
        )
        self.assertEqual(
            receipts["Membership fees 2026-W47 SEURA"]["transactions"][1]["dimensionItemValues"],
            [
                {"dimensionId": 1, "itemId": 13, "value": D("-50.00")},
                {"dimensionId": 2, "itemId": 21, "value": D("-50.00")},
            ],
        )
