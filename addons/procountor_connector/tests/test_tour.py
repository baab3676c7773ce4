# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from odoo.tests import HttpCase, tagged

from nordic_billing.sandbox.procountor import default_chart, default_dimensions


@tagged("post_install", "-at_install")
class TestMappingTour(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.backend = cls.env["procountor.backend"].create(
            {"name": "Tour books", "environment": "custom", "custom_url": "http://127.0.0.1:9/api"}
        )
        # The chart as a sync would store it (no Procountor needed for the form).
        cls.env["procountor.account"]._procountor_sync(cls.backend, default_chart())
        cls.env["procountor.dimension"]._procountor_sync(cls.backend, default_dimensions())
        cls.product = cls.env["product.product"].create(
            {
                "name": "Tour fee",
                "type": "service",
                "membership": True,
                "membership_date_from": date(2026, 1, 1),
                "membership_date_to": date(2026, 12, 31),
                "list_price": 30.0,
            }
        )
        cls.club = cls.env["membook.organisation"].create({"name": "Tour Club"})

    def test_map_a_fee_product(self):
        self.start_tour("/odoo", "procountor_product_mapping", login="admin")
        mapping = self.env["procountor.product.mapping"].search(
            [("backend_id", "=", self.backend.id)]
        )
        self.assertRecordValues(
            mapping,
            [
                {
                    "product_id": self.product.id,
                    "organisation_id": self.club.id,
                    "account_id": self.backend.account_ids.filtered(lambda a: a.code == "3050").id,
                }
            ],
        )
        self.assertEqual(mapping.dimension_item_ids.mapped("code"), ["SEURA"])
        self.assertEqual(self.backend.unmapped_product_ids, self.env["product.product"])
