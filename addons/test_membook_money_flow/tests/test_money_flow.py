# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime as dt
from decimal import Decimal

from lxml import etree

from odoo import fields
from odoo.tests import new_test_user, tagged

from odoo.addons.membook_membership.tests.common import BooksMixin
from odoo.addons.procountor_connector.tests.common import ProcountorBillingCase

from nordic_billing.bankfiles import KtlBatch, Outgoing, write_camt054, write_ktl
from nordic_billing.payment import Payment
from nordic_billing.sandbox import agency as agency_sandbox

D = Decimal
BBAN = "47300010416310"
AGENCY_KEY = "sandbox-key"


def _named(amounts):
    """{organisation name: amount}, for readable failures."""
    return {organisation.name: amount for organisation, amount in amounts.items()}


@tagged("post_install", "-at_install")
class TestMoneyFlow(BooksMixin, ProcountorBillingCase):
    """One fee paid through each path reaches the right organisations, the settlement, the
    payout, the memo voucher and the books.

    Paths: a bank file, Odoo's register payment, an online payment (Odoo's demo provider),
    Procountor's paid status (its sandbox), a collection agency's settlement (its sandbox); one
    paid fee credited and refunded, one payment unreconciled. Then the weekly settlement, its
    payout, the outgoing transfers on the bank statement and the memo vouchers; for every
    organisation: allocations = settlement = payout + service fee = memo voucher rows, and the
    due-to-organisations balance = allocations not paid out. Expected totals come from the fee
    splits of what was paid, not from the ledger: a path that stopped allocating makes them
    differ.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if "fi" not in dict(
            cls.sale_journal._fields["invoice_reference_model"]._description_selection(cls.env)
        ):
            cls.skipTest(cls, "needs the Finnish reference model of l10n_fi")
        cls.sale_journal.invoice_reference_model = "fi"
        cls._setup_books(fee_fixed=0.5)
        # Payments recorded from Procountor and online payments: each on a journal of its own.
        Journal = cls.env["account.journal"]
        cls.backend.payment_journal_id = Journal.create(
            {"name": "Procountor payments", "code": "PRCP", "type": "bank"}
        )
        online_journal = Journal.create({"name": "Online payments", "code": "ONLP", "type": "bank"})
        Provider = cls.env["payment.provider"].sudo()
        if "demo" not in dict(Provider._fields["code"]._description_selection(cls.env)):
            cls.skipTest(cls, "needs Odoo's demo payment provider (payment_demo)")
        cls.demo_provider = Provider.create(
            {
                "name": "Demo",
                "code": "demo",
                "state": "test",
                "company_id": cls.env.company.id,
                "journal_id": online_journal.id,
            }
        )
        cls.federation.ref, cls.district.ref, cls.club.ref = "LIITTO", "PIIRI", "SEURA"
        cls._setup_agency()
        # The least-privileged users of the flows: billing (payments, credit notes) and the
        # membership office (settlements).
        # (OCA membership lets only contact creators or its managers post a membership credit
        # note, which writes the membership lines.)
        cls.biller = new_test_user(
            cls.env,
            login="flow-biller",
            groups="base.group_user,base.group_partner_manager,account.group_account_invoice",
        )
        cls.office = new_test_user(
            cls.env,
            login="flow-office",
            groups="base.group_user,membership.group_membership_manager",
        )
        Partner = cls.env["res.partner"]
        cls.members = {
            path: Partner.create(
                {
                    "name": f"Member {path}",
                    "is_member": True,
                    "member_organisation_id": (cls.district if path == "online" else cls.club).id,
                    "email": f"{path}@example.com",
                    "street": "Esimerkkikatu 1",
                    "zip": "00100",
                    "city": "Helsinki",
                    "country_id": cls.env.ref("base.fi").id,
                    "procountor_invoice_channel": "email",
                }
            )
            for path in (
                "bank",
                "register",
                "online",
                "procountor",
                "agency",
                "credited",
                "unreconciled",
            )
        }

    @classmethod
    def _setup_agency(cls):
        """A collection agency over real HTTP on 127.0.0.1 that takes new cases, settling into
        a clearing account of its own."""
        cls.env.user.group_ids |= cls.env.ref("collection_connector.group_collection_manager")
        cls.agency = agency_sandbox.start_in_thread(api_key=AGENCY_KEY)
        cls.addClassCleanup(cls.agency.stop)
        cls.env["ir.config_parameter"].sudo().set_param("collection_connector.backoff", "0")
        Account = cls.env["account.account"]
        accounts = {
            key: Account.create({"name": name, "code": code, "account_type": kind, **extra})
            for key, name, code, kind, extra in (
                ("clearing", "Agency clearing", "191900", "asset_current", {"reconcile": True}),
                ("interest", "Late-payment interest", "379000", "income_other", {}),
                ("fee", "Reminder fees", "379100", "income_other", {}),
                ("cost", "Collection costs", "869000", "expense", {}),
                ("other", "Agency other postings", "869100", "expense", {}),
            )
        }
        cls.agency_backend = cls.env["collection.backend"].create(
            {
                "name": "Agency",
                "protocol": "generic_rest",
                "url": cls.agency.url,
                "api_key": AGENCY_KEY,
                "timeout": 5,
                "max_retries": 0,
                "creates_cases": True,
                "settlement_journal_id": cls.company_data["default_journal_misc"].id,
                **{f"{key}_account_id": account.id for key, account in accounts.items()},
            }
        )

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # Odoo's guard against outside HTTP compares the timeout with a number; the agency
        # client passes requests a (connect, read) pair. Hand the guard the longer one.
        timeout = kw.get("timeout")
        if isinstance(timeout, tuple):
            kw["timeout"] = max(t for t in timeout if t is not None)
        return super()._request_handler(s, r, **kw)

    def setUp(self):
        super().setUp()
        # The agency sandbox lives as long as the class: no case of another test is left.
        self.agency.state.reset()
        self.agency.faults.reset()

    def _invoice(self, member, due="2026-11-16"):
        due = fields.Date.to_date(due)
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": member.id,
                "invoice_date": due - dt.timedelta(days=14),
                "invoice_date_due": due,
                "invoice_line_ids": [
                    (0, 0, {"product_id": self.fee.id, "price_unit": 60.0, "tax_ids": []})
                ],
            }
        )
        invoice.action_post()
        return invoice

    def _register_payment(self, moves):
        return (
            self.env["account.payment.register"]
            .with_user(self.biller)
            .with_context(active_model="account.move", active_ids=moves.ids)
            .create({"payment_date": "2026-11-20", "journal_id": self.bank_journal.id})
            ._create_payments()
        )

    def _pay_by_bank_file(self, invoice):
        data = write_ktl(
            [
                KtlBatch(
                    payments=[
                        Payment(
                            account=BBAN,
                            archive_id="FLOW1",
                            reference=invoice.payment_reference,
                            amount=D("60.00"),
                            currency="EUR",
                            payment_date=dt.date(2026, 11, 20),
                            booking_date=dt.date(2026, 11, 20),
                            payer_name="Member bank",
                            is_correction=False,
                            source_format="ktl",
                            source_line="",
                        )
                    ],
                    created=dt.datetime(2026, 11, 20, 8),
                )
            ]
        )
        self.env["membook.bank.file"]._import_file(self.bank_journal, "day.svm", data)
        with self.enter_registry_test_mode():
            self.env.ref("membook_membership.ir_cron_membook_bank_process").method_direct_trigger()

    def _pay_online(self, invoice):
        tx = (
            self.env["payment.transaction"]
            .sudo()
            .create(
                {
                    "provider_id": self.demo_provider.id,
                    "payment_method_id": self.env.ref("payment.payment_method_unknown").id,
                    "amount": invoice.amount_residual,
                    "currency_id": invoice.currency_id.id,
                    "partner_id": invoice.partner_id.id,
                    "reference": f"FLOW-{invoice.id}",
                    "operation": "online_direct",
                    "invoice_ids": [(6, 0, invoice.ids)],
                }
            )
        )
        tx._set_done()
        tx._post_process()
        return tx

    def _pay_in_procountor(self, invoice):
        invoice.action_procountor_transfer()
        self.run_cron("ir_cron_procountor_push")
        self.sandbox.state.add_payment(
            invoice.procountor_invoice_id, payment_date=dt.date(2026, 11, 20)
        )
        self.run_cron("ir_cron_procountor_poll")

    def _run_collection_cron(self, name):
        with self.enter_registry_test_mode():
            result = self.env.ref(f"collection_connector.{name}").method_direct_trigger()
        self.assertIs(result, True, f"{name} failed: {result}")
        self.env.invalidate_all()

    def _pay_through_agency(self, invoice):
        """Handed to the agency from the draft list; the agency collects the fee, keeps its
        costs, and its settlement is booked back against the invoice."""
        invoice.action_collection_move_to_list()
        case = self.env["collection.case"].search([("move_id", "=", invoice.id)])
        case.action_approve()
        self._run_collection_cron("ir_cron_collection_send")
        self.assertEqual(case.state, "open")
        self.agency.state.advance(
            case.case_number,
            principal=str(invoice.amount_residual),
            costs="-5.00",
            date=fields.Date.context_today(case).isoformat(),
        )
        self._run_collection_cron("ir_cron_collection_pull")
        self.assertEqual(case.state, "paid")
        return case

    def _shares(self, moves):
        totals = {}
        for split in moves.membook_split_ids:
            amount = D(str(split.amount)).quantize(D("0.01"))
            totals[split.organisation_id] = totals.get(split.organisation_id, 0) + amount
        return totals

    def _assert_due(self, expected):
        """The due-to-organisations account holds, for each organisation, what the ledger says
        is owed to it, and that is ``expected`` (by organisation)."""
        check = self.env["membook.ledger.booking"]._check(self.env.company)
        self.assertEqual(
            {p: (owed, booked or D(0)) for p, (owed, booked) in check.items() if owed or booked},
            {o.partner_id: (amount, amount) for o, amount in expected.items() if amount},
        )
        for organisation, amount in expected.items():
            self.assertEqual(
                D(str(self._balance(self.due_account, organisation.partner_id))),
                amount,
                organisation.name,
            )

    def test_every_path_reaches_settlement_payout_voucher_and_books(self):
        self.backend._procountor_sync_chart()
        account = {a.code: a for a in self.backend.account_ids}
        item = {i.code: i for i in self.backend.dimension_ids.item_ids}
        for organisation, code, items in (
            (self.federation, "3060", ("LIITTO", "JASENYYS")),
            (self.district, "3050", ("PIIRI",)),
            (self.club, "3000", ("SEURA", "JASENYYS")),
        ):
            self.env["procountor.product.mapping"].create(
                {
                    "backend_id": self.backend.id,
                    "product_id": self.fee.id,
                    "organisation_id": organisation.id,
                    "account_id": account[code].id,
                    "dimension_item_ids": [(6, 0, [item[c].id for c in items])],
                }
            )
        today = fields.Date.context_today(self.env["membook.settlement"])
        invoices = {
            path: self._invoice(
                member, **({"due": today - dt.timedelta(days=30)} if path == "agency" else {})
            )
            for path, member in self.members.items()
        }

        self._pay_by_bank_file(invoices["bank"])
        self._register_payment(invoices["register"])
        self._pay_online(invoices["online"])
        self._pay_in_procountor(invoices["procountor"])
        self._pay_through_agency(invoices["agency"])
        self._register_payment(invoices["credited"])
        credit_note = (
            invoices["credited"]
            .with_user(self.biller)
            ._reverse_moves([{"invoice_date": "2026-11-21"}])
        )
        credit_note.with_user(self.biller).action_post()
        self._register_payment(credit_note)  # the fee refunded to the member
        self._register_payment(invoices["unreconciled"])
        partial = invoices["unreconciled"].line_ids.matched_credit_ids
        invoices["unreconciled"].with_user(self.biller).js_remove_outstanding_partial(partial.id)

        for path, invoice in invoices.items():
            expected = "not_paid" if path == "unreconciled" else "paid"
            self.assertIn(invoice.payment_state, (expected, "in_payment"), path)
            allocations = self.env["membook.allocation"].search([("invoice_id", "=", invoice.id)])
            self.assertTrue(allocations, f"{path}: allocated")
        # What each organisation is owed: the shares of the fees paid, less the one refunded.
        paid = invoices["bank"] | invoices["register"] | invoices["online"]
        paid |= invoices["procountor"] | invoices["agency"] | invoices["credited"]
        expected = self._shares(paid)
        for organisation, amount in self._shares(credit_note).items():
            expected[organisation] -= amount
        Allocation = self.env["membook.allocation"]
        ledger = {
            organisation: D(str(total)).quantize(D("0.01"))
            for organisation, total in Allocation._read_group(
                [("organisation_id", "!=", False)], ["organisation_id"], ["amount:sum"]
            )
        }
        self.assertEqual(_named(ledger), _named(expected), "allocations")
        self._assert_due(expected)

        # The weekly settlement, settled now, as the membership office.
        Settlement = self.env["membook.settlement"].with_user(self.office)
        action = Settlement.action_settle_now()
        settlements = Settlement.browse(action["domain"][0][2])
        self.assertEqual(
            _named({s.organisation_id: D(str(s.amount_total)) for s in settlements}),
            _named(expected),
            "settlements",
        )
        settlements.action_confirm()
        payments = {
            self.federation: 6,  # every fee paid: five members of the club, one of the district
            self.district: 6,
            self.club: 5,
        }
        for settlement in settlements:
            self.assertEqual(settlement.payment_count, payments[settlement.organisation_id])
            self.assertEqual(settlement.service_fee, 0.5 * settlement.payment_count)
        self.assertEqual(self._balance(self.service_fee_account), 0.5 * 17)
        # Confirmed, not paid out: due to each organisation = its share less the service fee.
        self._assert_due(
            {
                s.organisation_id: expected[s.organisation_id] - D(str(s.service_fee))
                for s in settlements
            }
        )
        settlements.action_create_payout()
        payout = settlements.payout_id
        self.assertEqual(len(payout), 1)
        root = etree.fromstring(payout.attachment_id.raw)
        ns = {"p": root.nsmap[None]}
        transfers = {
            tx.findtext("p:Cdtr/p:Nm", namespaces=ns): D(
                tx.findtext("p:Amt/p:InstdAmt", namespaces=ns)
            )
            for tx in root.iterfind(".//p:CdtTrfTxInf", ns)
        }
        for settlement in settlements:
            self.assertEqual(
                transfers[settlement.organisation_id.name] + D(str(settlement.service_fee)),
                expected[settlement.organisation_id],
            )
        # The books: due to each organisation = allocations not paid out (none now).
        self._assert_due(dict.fromkeys(expected, D(0)))
        # The transfers leave the bank account: the statement reconciles the payout.
        camt = b"".join(
            write_camt054(
                "FI1410093000123458",
                [],
                outgoing=[
                    Outgoing(
                        account="FI1410093000123458",
                        archive_id=f"OUT-{s.id}",
                        reference=s.reference,
                        end_to_end_id=s.name,
                        creditor_name=s.organisation_id.name,
                        amount=transfers[s.organisation_id.name],
                        currency="EUR",
                        booking_date=today,
                        source_format="camt.054",
                        source_line="",
                    )
                    for s in settlements
                ],
            )
        )
        self.env["membook.bank.file"]._import_file(self.bank_journal, "out.xml", camt)
        self.assertEqual(set(settlements.mapped("state")), {"paid"})
        self.assertTrue(all(settlements.payout_line_id.mapped("reconciled")))

        # The memo vouchers of the week, pushed to the sandbox.
        self.backend._procountor_week_vouchers(today)
        self.run_cron("ir_cron_procountor_push")
        receipts = {
            r["name"].rsplit(" ", 1)[1]: r
            for r in self.sandbox.state.environment().ledger_receipts.values()
        }
        for organisation in (self.federation, self.district, self.club):
            rows = receipts[organisation.ref]["transactions"]
            fees = -sum(
                t["accountingValue"] for t in rows if t["account"] in ("3000", "3050", "3060")
            )
            bank = sum(t["accountingValue"] for t in rows if t["account"] == "1910")
            settlement = settlements.filtered(lambda s, o=organisation: s.organisation_id == o)
            self.assertEqual(fees, expected[organisation], organisation.name)
            self.assertEqual(bank, transfers[organisation.name], organisation.name)
            self.assertEqual(fees - bank, D(str(settlement.service_fee)))
