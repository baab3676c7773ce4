# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged

from .common import MembookBillingCommon


@tagged("post_install", "-at_install")
class TestSplit(MembookBillingCommon):
    def _splits(self, invoice):
        return {
            (split.organisation_id.name or "operator"): split.amount
            for split in invoice.membook_split_ids
        }

    def _invoice(self, partner, product, price=None):
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": "2026-01-15",
                "invoice_line_ids": [
                    (
                        0,
                        0,
                        {
                            "product_id": product.id,
                            "price_unit": price or product.lst_price,
                            "tax_ids": [],
                        },
                    )
                ],
            }
        )
        invoice.action_post()
        return invoice

    def test_three_level_split_recorded_on_post(self):
        invoice = self._invoice(self.member_a, self.fee)
        self.assertEqual(
            self._splits(invoice),
            {"Tampere Ski Club": 25.0, "Pirkanmaa District": 10.0, "Finnish Ski Federation": 25.0},
        )
        self.assertEqual(sum(invoice.membook_split_ids.mapped("amount")), invoice.amount_total)

    def test_missing_level_goes_to_nearest_above(self):
        # A member of the district directly: the club's share goes to the district.
        invoice = self._invoice(self.member_other, self.fee)
        self.assertEqual(
            self._splits(invoice),
            {"Pirkanmaa District": 35.0, "Finnish Ski Federation": 25.0},
        )

    def test_member_without_organisation_leaves_shares_to_operator(self):
        loner = self.env["res.partner"].create({"name": "No Club", "is_member": True})
        invoice = self._invoice(loner, self.fee)
        self.assertEqual(self._splits(invoice), {"operator": 60.0})

    def test_discounted_line_scales_fixed_shares(self):
        invoice = self._invoice(self.member_a, self.fee, price=50.0)
        splits = self._splits(invoice)
        self.assertEqual(sum(splits.values()), 50.0)
        # 25/10/25 of 60 scaled to 50 by largest remainder: 20.83⅓ each for federation and club,
        # 8.33⅓ for the district; the cent left over goes to the first tie (the federation).
        self.assertEqual(
            splits,
            {
                "Finnish Ski Federation": 20.84,
                "Pirkanmaa District": 8.33,
                "Tampere Ski Club": 20.83,
            },
        )

    def test_percentages_and_named_organisation(self):
        product = self._create_fee_product(
            "Junior fee",
            33.33,
            [(self.level_club, 50.0), (self.federation, 50.0)],
            basis="percent",
        )
        invoice = self._invoice(self.member_a, product)
        splits = self._splits(invoice)
        self.assertEqual(sum(round(v * 100) for v in splits.values()), 3333)
        self.assertEqual(sorted(splits.values()), [16.66, 16.67])

    def test_split_must_sum_to_price(self):
        with self.assertRaisesRegex(ValidationError, "add up to 59.00 but the price is 60.00"):
            self._create_fee_product(
                "Bad fee", 60.0, [(self.level_federation, 25.0), (self.level_club, 34.0)]
            )
        with self.assertRaisesRegex(ValidationError, "percentages add up to 90"):
            self._create_fee_product("Bad %", 60.0, [(self.level_club, 90.0)], basis="percent")
        with self.assertRaises(ValidationError):
            self.fee.product_tmpl_id.list_price = 61.0

    def test_level_needed_on_every_ancestor(self):
        self.district.level_id = False
        with self.assertRaisesRegex(ValidationError, "Pirkanmaa District has none"):
            self._invoice(self.member_a, self.fee)

    def test_split_editable_in_product_form(self):
        with Form(self.fee.product_tmpl_id, view="membership.membership_products_form") as form:
            with form.membook_split_rule_ids.edit(0) as rule:
                rule.value = 20.0
            with form.membook_split_rule_ids.edit(2) as rule:
                rule.value = 30.0
        self.assertEqual(self.fee.membook_split_rule_ids.mapped("value"), [20.0, 10.0, 30.0])
