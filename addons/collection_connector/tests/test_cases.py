# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Cases at the sandbox agency over real HTTP: REST and SOAP, failures, two agencies."""

from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.fields import Domain
from odoo.tests import new_test_user, tagged

from .common import CollectionCommon


@tagged("post_install", "-at_install")
class TestCases(CollectionCommon):
    def setUp(self):
        super().setUp()
        self.sandbox.state.reset()
        self.sandbox.faults.reset()
        self.due = fields.Date.today() - timedelta(days=30)

    def _approved_case(self, invoice=None, **invoice_values):
        invoice = invoice or self._invoice(self.due, **invoice_values)
        invoice.action_collection_move_to_list()
        case = self._case(invoice)
        case.action_approve()
        return case

    def _due_now(self, case):
        """Let the time of the next try come."""
        case.next_try = fields.Datetime.now() - timedelta(seconds=1)

    # ------------------------------------------------------------------ end to end

    def test_rest_case_end_to_end(self):
        invoice = self._invoice(self.due, amount=120.0, payment_reference="RF471234567")
        self._fill_draft_list()
        case = self._case(invoice)
        self.assertEqual(case.state, "draft")
        case.action_approve()
        self.assertEqual((case.state, case.approved_uid), ("approved", self.env.user))
        self._send()
        self.assertEqual(case.state, "open")
        self.assertEqual(case.backend_id, self.backend)
        self.assertTrue(case.case_number)
        self.assertEqual(case.external_key, f"{self.company.id}/{invoice.name}")
        self.assertEqual(case.attempts, 1)
        # The agency got the claim and the debtor.
        remote = self._agency_case(case.case_number)
        self.assertEqual(remote.external_key, case.external_key)
        self.assertEqual(remote.claim["outstanding_amount"], "120.00")
        self.assertEqual(remote.claim["currency"], "EUR")
        self.assertEqual(remote.claim["reference"], "RF471234567")
        self.assertEqual(remote.claim["due_date"], self.due.isoformat())
        self.assertEqual(remote.debtor["type"], "company")
        self.assertEqual(remote.debtor["id_number"], "1234567-8")
        self.assertEqual(remote.debtor["address_lines"], ["Hämeenkatu 1"])
        self.assertIn('"outstanding_amount": "120.00"', case.payload)
        self.assertEqual(self.sandbox.state.count("create_case", "rest"), 1)
        # The case number and state show on the invoice, in the form and in the list.
        self.assertEqual(invoice.collection_case_number, case.case_number)
        self.assertEqual(invoice.collection_state, "open")
        views = invoice.get_views([(False, "list"), (False, "form")])["views"]
        self.assertIn('name="collection_case_number"', views["list"]["arch"])
        self.assertIn('name="collection_state"', views["form"]["arch"])
        # Sending again sends nothing.
        self._send()
        self.assertEqual(self.sandbox.state.count("create_case"), 1)

    def test_soap_case_end_to_end(self):
        soap = self._create_backend("Agency SOAP", protocol="generic_soap")
        soap.action_make_creating()
        case = self._approved_case(partner=self.consumer)
        self._send()
        self.assertEqual((case.state, case.backend_id), ("open", soap))
        self.assertEqual(self.sandbox.state.count("create_case", "soap"), 1)
        self.assertEqual(self.sandbox.state.count("create_case", "rest"), 0)
        remote = self._agency_case(case.case_number)
        self.assertEqual(remote.debtor["type"], "person")
        self.assertEqual(remote.claim["outstanding_amount"], "100.00")

    def test_two_agencies_and_a_switch(self):
        soap = self._create_backend("Agency SOAP", protocol="generic_soap")
        first = self._approved_case()
        self._send()
        self.assertEqual(first.backend_id, self.backend)
        soap.action_make_creating()
        self.assertFalse(self.backend.creates_cases)
        self.assertTrue(self.backend.active, "the old agency keeps working on its cases")
        second = self._approved_case(partner=self.consumer)
        self._send()
        self.assertEqual(second.backend_id, soap)
        self.assertEqual(first.backend_id, self.backend, "existing cases stay where they are")
        # A payment on the first case goes to the first agency, over its protocol.
        self._pay(first.move_id, 10.0)
        self._send()
        self.assertEqual(self.sandbox.state.count("add_payment", "rest"), 1)
        self.assertEqual(self.sandbox.state.count("add_payment", "soap"), 0)
        self.assertEqual(self.backend.case_count, 1)
        self.assertEqual(soap.case_count, 1)

    # ------------------------------------------------------------------ failures

    def test_5xx_after_storing_gives_no_duplicate(self):
        self.sandbox.faults.store_then_fail(1, "error", operation="create_case")
        case = self._approved_case()
        self._send()
        self.assertEqual(case.state, "open")
        self.assertEqual(len(self.sandbox.state.cases), 1)
        self.assertEqual(self.sandbox.state.count("create_case"), 1)
        self.assertEqual(self.sandbox.state.count("find_case"), 2, "looked up before and after")

    def test_agency_down_then_back_gives_one_case(self):
        self.sandbox.faults.fail_next(1, 503, operation="create_case")
        case = self._approved_case()
        self._send()
        self.assertEqual(case.state, "unknown", "a 503 may come after the agency stored it")
        self.assertTrue(case.maybe_at_agency)
        self.assertGreater(case.next_try, fields.Datetime.now())
        self.assertIn("503", case.error)
        self._send()  # not yet time
        self.assertEqual(self.sandbox.state.count("create_case"), 1)
        self._due_now(case)
        self._send()
        self.assertEqual(case.state, "open")
        self.assertEqual((case.attempts, len(self.sandbox.state.cases)), (2, 1))

    def test_full_credit_while_the_outcome_is_unknown(self):
        # The agency stores the case, fails to answer, and the lookup after it fails too.
        self.sandbox.faults.store_then_fail(1, "error", operation="create_case")
        self.sandbox.faults.fail_next(1, 503, operation="find_case", skip=1)
        case = self._approved_case()
        self._send()
        self.assertEqual(case.state, "unknown")
        self.assertFalse(case.case_number)
        self._reverse_invoice(case.move_id, post=True)
        self.assertTrue(case.cancel_requested)
        self._due_now(case)
        self._send()
        self.assertEqual(len(self.sandbox.state.cases), 1)
        self.assertEqual(self.sandbox.state.count("create_case"), 1, "never sent again")
        self.assertTrue(case.case_number)
        self.assertEqual(self._agency_case(case.case_number).status, "closed")
        self.assertEqual(case.state, "closed")

    def test_full_credit_of_a_case_that_never_arrived(self):
        self.sandbox.faults.fail_next(2, 503, skip=1)  # the create and the lookup after it
        case = self._approved_case()
        self._send()
        self.assertEqual(case.state, "unknown")
        self._reverse_invoice(case.move_id, post=True)
        self._due_now(case)
        self._send()
        self.assertEqual(case.state, "closed")
        self.assertFalse(self.sandbox.state.cases)
        self.assertEqual(self.sandbox.state.count("create_case"), 1)

    def test_retries_within_one_run(self):
        self.backend.max_retries = 2
        self.sandbox.faults.fail_next(2, 502, operation="create_case")
        case = self._approved_case()
        self._send()
        self.assertEqual(case.state, "open")
        self.assertEqual(len(self.sandbox.state.cases), 1)
        self.assertEqual(self.sandbox.state.count("create_case"), 3)

    def test_agency_refuses_bad_data(self):
        self.debtor.street = False
        case = self._approved_case()
        self._send()
        self.assertEqual(case.state, "error")
        self.assertIn("address", case.error)
        self.assertFalse(case.next_try)
        self.assertFalse(self.sandbox.state.cases)
        self.debtor.street = "Hämeenkatu 1"
        case.action_retry()
        self._send()
        self.assertEqual(case.state, "open")

    def test_wrong_api_key(self):
        self.backend.api_key = "not-the-key"
        case = self._approved_case()
        self._send()
        self.assertEqual(case.state, "error")
        self.assertIn("credentials", case.error)

    def test_settled_before_sending(self):
        case = self._approved_case()
        self._pay(case.move_id, 100.0)
        self._send()
        self.assertEqual(case.state, "closed")
        self.assertFalse(self.sandbox.state.cases)

    def test_no_creating_agency_waits(self):
        case = self._approved_case()
        self.backend.creates_cases = False
        self._send()
        self.assertEqual(case.state, "approved")
        self.assertIn("No collection agency", case.error)
        self.assertFalse(self.sandbox.state.cases)

    def test_test_connection(self):
        action = self.backend.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        soap = self._create_backend("Agency SOAP", protocol="generic_soap")
        soap.action_test_connection()
        self.assertEqual(self.sandbox.state.count("ping", "soap"), 1)


@tagged("post_install", "-at_install")
class TestCasesAsCollectionUser(CollectionCommon):
    """The buttons of the draft list and of a case, pressed by a collection user (who works
    the invoices, not the agencies): each works, and answers an RPC call (never None)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clerk = new_test_user(
            cls.env,
            login="cc-clerk",
            groups="base.group_user,account.group_account_invoice,"
            "collection_connector.group_collection_user",
        )

    def setUp(self):
        super().setUp()
        self.sandbox.state.reset()
        self.sandbox.faults.reset()

    def test_draft_list_buttons(self):
        due = fields.Date.today() - timedelta(days=30)
        keep, drop = self._invoice(due), self._invoice(due, partner=self.consumer)
        moves = (keep | drop).with_user(self.clerk)
        self.assertIs(moves.action_collection_move_to_list(), True)
        case, dropped = self._case(keep).with_user(self.clerk), self._case(drop)
        self.assertIs(dropped.with_user(self.clerk).action_remove(), True)
        self.assertFalse(dropped.exists())
        self.assertTrue(drop.collection_hold)
        self.assertIs(case.action_approve(), True)
        self.assertIs(case.action_back_to_draft(), True)
        self.assertEqual(case.state, "draft")
        self.assertIs(case.action_approve(), True)
        self.assertEqual(
            keep.with_user(self.clerk).action_view_collection_case()["res_id"], case.id
        )
        self.debtor.street = False
        self._send()
        self.assertEqual(case.state, "error")
        self.debtor.street = "Hämeenkatu 1"
        self.assertIs(case.action_retry(), True)
        self._send()
        self.assertEqual(case.state, "open")

    def test_connection_test_as_collection_user(self):
        result = self.backend.with_user(self.clerk).action_test_connection()
        self.assertEqual(result["params"]["type"], "success")


@tagged("post_install", "-at_install")
class TestCronCopies(CollectionCommon):
    """Several copies of the sending scheduled action, in parallel cron workers."""

    def setUp(self):
        super().setUp()
        self.sandbox.state.reset()
        self.sandbox.faults.reset()
        self.due = fields.Date.today() - timedelta(days=30)
        self.send_cron = self.env.ref("collection_connector.ir_cron_collection_send")

    def test_send_goes_on_past_the_page_another_copy_holds(self):
        """A copy whose first page another copy holds sends the next cases, not nothing.

        The other copy's row locks are simulated (the cases of this test are not committed, so
        no second connection sees them): what PostgreSQL's SKIP LOCKED would leave out of this
        transaction's locks is left out here, in the helper of base_cron_batch and in Odoo's
        try_lock_for_update alike. tests of base_cron_batch lock with two real connections.
        """
        invoices = self._invoice(self.due) | self._invoice(self.due, partner=self.consumer)
        invoices |= self._invoice(self.due) | self._invoice(self.due, partner=self.consumer)
        invoices.action_collection_move_to_list()
        cases = self.env["collection.case"].search([("move_id", "in", invoices.ids)], order="id")
        cases.action_approve()
        held = cases[:2]  # the first page, being sent by the other copy
        self.env["ir.config_parameter"].sudo().set_param("collection_connector.batch_size", "2")
        Cron = type(self.env["ir.cron"])
        lock_next_batch = Cron._lock_next_batch
        try_lock_for_update = type(self.env["collection.case"]).try_lock_for_update

        def skip_held(cron, records, domain, *args, **kwargs):
            if records._name == "collection.case":
                domain = Domain(domain) & Domain("id", "not in", held.ids)
            return lock_next_batch(cron, records, domain, *args, **kwargs)

        def try_lock_skipping_held(records, *args, **kwargs):
            return try_lock_for_update(records - held, *args, **kwargs)

        with (
            patch.object(Cron, "_lock_next_batch", skip_held),
            patch.object(
                type(self.env["collection.case"]), "try_lock_for_update", try_lock_skipping_held
            ),
        ):
            self._send()
        self.assertEqual(set((cases - held).mapped("state")), {"open"})
        self.assertEqual(set(held.mapped("state")), {"approved"})
        self.assertEqual(self.sandbox.state.count("create_case"), 2)

    def test_new_work_wakes_every_copy(self):
        """Approving a case wakes the sending action and each copy of it, not only the original
        (a copy that is not due would sleep while the original sends alone)."""
        copy = self.send_cron.copy({"name": "Send to the agencies (second worker)"})
        Trigger = self.env["ir.cron.trigger"]
        before = Trigger.search([])
        invoice = self._invoice(self.due)
        invoice.action_collection_move_to_list()
        self._case(invoice).action_approve()
        self.assertEqual((Trigger.search([]) - before).cron_id, self.send_cron | copy)
