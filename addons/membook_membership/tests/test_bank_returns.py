# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A bank day with what went wrong at the payers' banks: a direct debit that failed (KTL) and a
direct debit collected, then returned with a fee (camt.053)."""

import datetime as dt
from decimal import Decimal

from odoo.tests import tagged

from nordic_billing.bankfiles import KtlBatch, write_ktl
from nordic_billing.payment import FailedDebit, Payment

from .common import MembookBillingCommon

BBAN = "47300010416310"
IBAN = "FI4947300010416310"

# A camt.053.001.08 statement with one direct-debit return as a Finnish bank sends it: a DBIT
# without RvslInd, the payment's 60.00 and the bank's 2.50 fee booked together, the reason in
# RtrInf.
RETURN_STATEMENT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>STMT-20260205</MsgId><CreDtTm>2026-02-05T08:00:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>STMT-20260205</Id><CreDtTm>2026-02-05T08:00:00</CreDtTm>
   <Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>EUR</Ccy></Acct>
   <Ntry>
    <Amt Ccy="EUR">62.50</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><Dt>2026-02-05</Dt></BookgDt><ValDt><Dt>2026-02-05</Dt></ValDt>
    <AcctSvcrRef>2602050001RTRN01</AcctSvcrRef>
    <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RDDT</Cd><SubFmlyCd>UPDD</SubFmlyCd></Fmly></Domn>
    </BkTxCd>
    <NtryDtls><TxDtls>
     <Refs><AcctSvcrRef>2602050001RTRN01</AcctSvcrRef><EndToEndId>DD-1</EndToEndId></Refs>
     <AmtDtls>
      <InstdAmt><Amt Ccy="EUR">60.00</Amt></InstdAmt>
      <TxAmt><Amt Ccy="EUR">62.50</Amt></TxAmt>
     </AmtDtls>
     <Chrgs><Rcrd><Amt Ccy="EUR">2.50</Amt><CdtDbtInd>DBIT</CdtDbtInd>
      <ChrgInclInd>true</ChrgInclInd></Rcrd></Chrgs>
     <RltdPties><Dbtr><Pty><Nm>MEMBER A</Nm></Pty></Dbtr></RltdPties>
     <RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>
      <Ref>{reference}</Ref></CdtrRefInf></Strd></RmtInf>
     <RtrInf><Rsn><Cd>AM04</Cd></Rsn></RtrInf>
    </TxDtls></NtryDtls>
   </Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>
"""


@tagged("post_install", "-at_install")
class TestBankReturns(MembookBillingCommon):
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
        cls.invoices = {}
        for member in (cls.member_a, cls.member_b):
            invoice = cls.env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": member.id,
                    "invoice_date": "2026-01-15",
                    "invoice_date_due": "2026-02-15",
                    "invoice_line_ids": [
                        (0, 0, {"product_id": cls.fee.id, "price_unit": 60.0, "tax_ids": []})
                    ],
                }
            )
            invoice.action_post()
            cls.invoices[member] = invoice

    def _import(self, data, name):
        record = self.env["membook.bank.file"]._import_file(self.bank_journal, name, data)
        cron = self.env.ref("membook_membership.ir_cron_membook_bank_process")
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        return record

    def _allocated(self, invoice):
        allocations = self.env["membook.allocation"].search([("invoice_id", "=", invoice.id)])
        return sum(allocations.mapped("amount")), len(allocations)

    def test_failed_direct_debit_pays_nothing(self):
        """A KTL day with member B's reference payment and member A's failed direct debit: B is
        paid; A's invoice stays open, nothing is staged or allocated for it, and the file lists
        the failed debit apart."""
        invoice_a, invoice_b = self.invoices[self.member_a], self.invoices[self.member_b]
        day = dt.date(2026, 2, 2)
        data = write_ktl(
            [
                KtlBatch(
                    payments=[
                        Payment(
                            account=BBAN,
                            archive_id="2602020001RF0001",
                            reference=invoice_b.payment_reference,
                            amount=Decimal("60.00"),
                            currency="EUR",
                            payment_date=day,
                            booking_date=day,
                            payer_name="MEMBER B",
                            is_correction=False,
                            source_format="ktl",
                            source_line="",
                        )
                    ],
                    failed_debits=[
                        FailedDebit(
                            account=BBAN,
                            archive_id="2602020002DD0001",
                            reference=invoice_a.payment_reference,
                            amount=Decimal("60.00"),
                            currency="EUR",
                            payment_date=day,
                            booking_date=day,
                            payer_name="MEMBER A",
                            return_code="1",
                            source_format="ktl",
                            source_line="",
                        )
                    ],
                    created=dt.datetime(2026, 2, 2, 8),
                )
            ]
        )
        record = self._import(data, "debits.svm")
        self.assertEqual(
            (record.payment_count, record.new_count, record.amount_total),
            (1, 1, 60.0),
        )
        self.assertEqual((record.failed_debit_count, record.failed_debit_amount), (1, 60.0))
        self.assertIn(invoice_a.payment_reference, record.failed_debit_details)
        self.assertIn("return code 1", record.failed_debit_details)
        self.assertEqual(record.payment_ids.mapped("reference"), [invoice_b.payment_reference])
        self.assertEqual(record.payment_ids.state, "matched")
        self.assertIn(invoice_b.payment_state, ("paid", "in_payment"))
        self.assertEqual((invoice_a.payment_state, invoice_a.amount_residual), ("not_paid", 60.0))
        self.assertEqual(self._allocated(invoice_a), (0.0, 0))
        self.assertEqual(self._allocated(invoice_b)[0], 60.0)
        self.assertFalse(
            self.env["membook.bank.payment"].search_count([("archive_id", "=", "2602020002DD0001")])
        )
        # The bank sent 60.00 in: the bank account shows exactly that.
        self.assertEqual(sum(record.payment_ids.statement_line_id.mapped("amount")), 60.0)

    def _collect_and_return(self):
        """Import member A's collected direct debit (KTL), then its return (camt.053); return
        (original payment, returned payment)."""
        invoice = self.invoices[self.member_a]
        day = dt.date(2026, 2, 2)
        collected = write_ktl(
            [
                KtlBatch(
                    payments=[
                        Payment(
                            account=BBAN,
                            archive_id="2602020003DD0002",
                            reference=invoice.payment_reference,
                            amount=Decimal("60.00"),
                            currency="EUR",
                            payment_date=day,
                            booking_date=day,
                            payer_name="MEMBER A",
                            is_correction=False,
                            source_format="ktl",
                            source_line="",
                        )
                    ],
                    created=dt.datetime(2026, 2, 2, 8),
                )
            ]
        )
        original = self._import(collected, "collected.svm").payment_ids
        self.assertEqual(original.state, "matched")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(self._allocated(invoice), (60.0, 3))
        statement = RETURN_STATEMENT.format(iban=IBAN, reference=invoice.payment_reference)
        record = self._import(statement.encode(), "statement.xml")
        self.assertEqual((record.file_format, record.payment_count), ("camt.053", 1))
        self.assertEqual(record.payout_count, 0, "a return is no outgoing transfer")
        return original, record.payment_ids

    def test_direct_debit_return_reverses_the_payment_and_books_the_fee(self):
        """Member A's collected direct debit (KTL), then its return in a camt.053 without
        RvslInd: the payment is reversed with its allocations through the reversal path, the
        invoice is open again, and the bank's fee goes to the journal's bank charges account."""
        invoice = self.invoices[self.member_a]
        original, returned = self._collect_and_return()
        self.assertEqual(
            (
                returned.is_correction,
                returned.amount,
                returned.charges,
                returned.instructed_amount,
                returned.return_reason,
            ),
            (True, 60.0, 2.5, 60.0, "AM04"),
        )
        self.assertEqual((returned.state, returned.match_kind), ("reversal", "reversal"))
        self.assertEqual(returned.reverses_id, original)
        self.assertEqual((original.state, original.reversed_by_id), ("reversed", returned))
        self.assertEqual((invoice.payment_state, invoice.amount_residual), ("not_paid", 60.0))
        self.assertTrue(original.counterpart_line_id.reconciled, "settled by the return")
        # Three shares and their reversals, dated on the return.
        self.assertEqual(self._allocated(invoice), (0.0, 6))
        reversals = original.allocation_ids.filtered("reversed_id")
        self.assertEqual(len(reversals), 3)
        self.assertEqual(set(reversals.mapped("date")), {dt.date(2026, 2, 5)}, "dated on it")
        # The bank took 62.50: the return and its fee, the fee on the bank charges account.
        st_line = returned.statement_line_id
        self.assertEqual(st_line.amount, -62.5)
        items = st_line.move_id.line_ids
        self.assertEqual(
            sum(items.filtered(lambda line: line.account_id == self.fee_account).mapped("debit")),
            2.5,
        )
        self.assertEqual(
            items.filtered(
                lambda line: line.account_id == self.bank_journal.default_account_id
            ).credit,
            62.5,
        )
        self.assertFalse(
            items.filtered(lambda line: line.account_id == self.bank_journal.suspense_account_id),
            "nothing waits on suspense",
        )

    def test_return_fee_waits_on_suspense_without_a_charges_account(self):
        """Without a bank charges account the fee waits on suspense for a person to book, and
        the member's payment is still reversed exactly."""
        self.bank_journal.membook_bank_fee_account_id = False
        invoice = self.invoices[self.member_a]
        original, returned = self._collect_and_return()
        self.assertEqual((returned.state, original.state), ("reversal", "reversed"))
        self.assertEqual((invoice.payment_state, invoice.amount_residual), ("not_paid", 60.0))
        self.assertEqual(self._allocated(invoice), (0.0, 6))
        suspense = returned.statement_line_id.move_id.line_ids.filtered(
            lambda line: line.account_id == self.bank_journal.suspense_account_id
        )
        self.assertEqual(suspense.mapped("debit"), [2.5])
