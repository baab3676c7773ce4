# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Incoming payments the bank credited less its charges (camt ``Chrgs``, the instructed amount
above the credited one): the invoice counts as paid by what the payer paid, the charges go to
the journal's bank charges account, the same through the SQL fast paths and Odoo's."""

import base64

from odoo.tests import new_test_user, tagged

from .common import MembookBillingCommon

IBAN = "FI4947300010416310"

STATEMENT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>{id}</MsgId><CreDtTm>2026-02-05T08:00:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>{id}</Id><CreDtTm>2026-02-05T08:00:00</CreDtTm>
   <Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>EUR</Ccy></Acct>
{entries}
  </Stmt>
 </BkToCstmrStmt>
</Document>
"""
# One incoming payment: the payer ordered {instructed}, the bank credited {credited} and kept
# {charges} (included in the booked amount's difference: ChrgInclInd).
ENTRY = """   <Ntry>
    <Amt Ccy="EUR">{credited}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><Dt>2026-02-05</Dt></BookgDt><ValDt><Dt>2026-02-05</Dt></ValDt>
    <AcctSvcrRef>{ref}</AcctSvcrRef>
    <NtryDtls><TxDtls>
     <Refs><AcctSvcrRef>{ref}</AcctSvcrRef></Refs>
     <AmtDtls>
      <InstdAmt><Amt Ccy="EUR">{instructed}</Amt></InstdAmt>
      <TxAmt><Amt Ccy="EUR">{credited}</Amt></TxAmt>
     </AmtDtls>
     <Chrgs><Rcrd><Amt Ccy="EUR">{charges}</Amt><CdtDbtInd>DBIT</CdtDbtInd>
      <ChrgInclInd>true</ChrgInclInd></Rcrd></Chrgs>
     <RltdPties><Dbtr><Pty><Nm>{payer}</Nm></Pty></Dbtr></RltdPties>
     <RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>
      <Ref>{reference}</Ref></CdtrRefInf></Strd></RmtInf>
    </TxDtls></NtryDtls>
   </Ntry>"""


@tagged("post_install", "-at_install")
class TestBankCharges(MembookBillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        models = dict(
            cls.sale_journal._fields["invoice_reference_model"]._description_selection(cls.env)
        )
        if "fi" not in models:
            cls.skipTest(cls, "needs the Finnish reference model of l10n_fi")
        cls.sale_journal.invoice_reference_model = "fi"
        cls.bank_journal = cls.company_data["default_journal_bank"]
        cls.fee_account = cls.env["account.account"].create(
            {"name": "Bank charges", "code": "769100", "account_type": "expense"}
        )
        cls.bank_journal.membook_bank_fee_account_id = cls.fee_account
        # The membership office imports the bank files.
        cls.office = new_test_user(
            cls.env,
            login="mb-charges-office",
            groups="base.group_user,membership.group_membership_manager",
        )

    def _invoice(self, member, amount=60.0):
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": member.id,
                "invoice_date": "2026-01-15",
                "invoice_date_due": "2026-02-15",
                "invoice_line_ids": [
                    (0, 0, {"product_id": self.fee.id, "price_unit": amount, "tax_ids": []})
                ],
            }
        )
        invoice.action_post()
        return invoice

    def _bank_day(self, name, payments):
        """Import a camt.053 of ``payments`` (reference, payer, instructed, credited, charges)
        as the membership office, and run the bank day; the payments, in file order."""
        entries = "\n".join(
            ENTRY.format(
                ref=f"{name}{index:04d}",
                reference=reference,
                payer=payer,
                instructed=instructed,
                credited=credited,
                charges=charges,
            )
            for index, (reference, payer, instructed, credited, charges) in enumerate(payments)
        )
        data = STATEMENT.format(id=name, iban=IBAN, entries=entries).encode()
        office = self.env(user=self.office)
        wizard = office["membook.bank.file.import"].create(
            {
                "journal_id": self.bank_journal.id,
                "data_file": base64.b64encode(data),
                "filename": f"{name}.xml",
            }
        )
        record = office["membook.bank.file"].browse(wizard.action_import()["res_id"])
        self.assertEqual(record.new_count, len(payments))
        cron = self.env.ref("membook_membership.ir_cron_membook_bank_process")
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        return record.payment_ids.sorted("archive_id")

    def _items(self, payments, account):
        items = payments.statement_line_id.move_id.line_ids
        return items.filtered(lambda line: line.account_id == account)

    def _pay_with_charges(self, name):
        """Member A pays 60.00 of which the bank keeps 2.00; member B pays 70.00 for a 60.00
        invoice, of which the bank keeps 1.50; member C pays 60.00 in full."""
        invoices = [self._invoice(member) for member in (self.member_a, self.member_b)]
        invoices.append(self._invoice(self.member_other))
        payments = self._bank_day(
            name,
            [
                (invoices[0].payment_reference, "MEMBER A", "60.00", "58.00", "2.00"),
                (invoices[1].payment_reference, "MEMBER B", "70.00", "68.50", "1.50"),
                (invoices[2].payment_reference, "MEMBER C", "60.00", "60.00", "0.00"),
            ],
        )
        return invoices, payments

    def _assert_paid_with_charges(self, invoices, payments):
        self.assertEqual(
            [(p.amount, p.charges, p.instructed_amount) for p in payments],
            [(58.0, 2.0, 60.0), (68.5, 1.5, 70.0), (60.0, 0.0, 60.0)],
        )
        # The invoices count as paid by what the payers paid, charges included.
        self.assertEqual([i.payment_state for i in invoices], ["paid"] * 3)
        self.assertEqual(
            [(p.state, p.match_kind, p.unapplied_amount) for p in payments],
            [("matched", "exact", 0.0), ("matched", "overpayment", 10.0), ("matched", "exact", 0)],
        )
        # The allocations share out what the members paid, not what the bank credited.
        for invoice in invoices:
            allocations = self.env["membook.allocation"].search([("invoice_id", "=", invoice.id)])
            self.assertAlmostEqual(sum(allocations.mapped("amount")), 60.0)
        # The payers' items credit what they paid; the bank got what it credited; the charges
        # are on the journal's bank charges account, and nothing waits on suspense.
        self.assertEqual(sorted(payments.counterpart_line_id.mapped("credit")), [60.0, 60.0, 70.0])
        self.assertEqual(
            sum(self._items(payments, self.bank_journal.default_account_id).mapped("debit")),
            186.5,
        )
        self.assertEqual(sum(self._items(payments, self.fee_account).mapped("debit")), 3.5)
        self.assertFalse(self._items(payments, self.bank_journal.suspense_account_id))
        self.assertTrue(all(payments.statement_line_id.mapped("is_reconciled")))
        self.assertIn("Bank charges of 2.00", payments[0].match_reason)
        self.assertNotIn("Bank charges", payments[2].match_reason or "")

    def test_charges_go_to_the_bank_charges_account(self):
        invoices, payments = self._pay_with_charges("CHRG")
        self.assertFalse(any(payments.mapped("fast_path_note")), "the SQL fast paths booked them")
        self._assert_paid_with_charges(invoices, payments)

    def test_odoos_path_books_the_charges_the_same(self):
        self.env["ir.config_parameter"].sudo().set_param("membook_membership.sql_fast_paths", "off")
        invoices, payments = self._pay_with_charges("ORMC")
        self.assertTrue(all(payments.mapped("fast_path_note")), "Odoo booked them")
        self._assert_paid_with_charges(invoices, payments)

    def test_without_a_charges_account_they_wait_on_suspense(self):
        self.bank_journal.membook_bank_fee_account_id = False
        invoice = self._invoice(self.member_a)
        payment = self._bank_day(
            "SUSP", [(invoice.payment_reference, "MEMBER A", "60.00", "58.00", "2.00")]
        )
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual((payment.match_kind, payment.unapplied_amount), ("exact", 0.0))
        self.assertIn("no bank charges account", payment.match_reason)
        suspense = self._items(payment, self.bank_journal.suspense_account_id)
        self.assertEqual(suspense.mapped("debit"), [2.0])
        self.assertIn("no bank charges account", suspense.name)

    def test_unmatched_payment_keeps_what_the_payer_paid(self):
        """A payment with charges and an unknown reference waits in the queue with what the
        payer paid; assigned by hand, it pays the invoice in full."""
        invoice = self._invoice(self.member_a)
        payment = self._bank_day(
            "QUEU", [("RF18000000000000001", "MEMBER A", "60.00", "58.00", "2.00")]
        )
        self.assertEqual(payment.state, "to_check")
        self.assertEqual(sum(self._items(payment, self.fee_account).mapped("debit")), 2.0)
        payment.with_env(self.env)._assign(invoice)  # by an accountant
        self.assertEqual((payment.state, invoice.payment_state), ("assigned", "paid"))
