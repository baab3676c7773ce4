# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Membership Billing: money-flow test",
    "summary": "Test only: one fee paid through every payment path reaches the settlement, "
    "the payout, the memo voucher and the books",
    "version": "19.0.1.0.0",
    "category": "Hidden",
    "website": "https://github.com/nordic-billing/nordic-billing",
    "author": "Nordic Billing contributors",
    "maintainers": ["nordic-billing"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": [
        "membook_membership",
        "procountor_connector",
        "collection_connector",
        "payment_demo",
    ],
    "external_dependencies": {"python": ["nordic_billing"]},
    "data": [],
    "installable": True,
}
