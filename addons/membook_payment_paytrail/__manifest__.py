# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Membership Billing: Paytrail",
    "summary": "Members pay fee invoices through Paytrail; the bank day clears Paytrail payouts "
    "and books their commission",
    "version": "19.0.1.0.0",
    "category": "Membership",
    "website": "https://github.com/nordic-billing/nordic-billing",
    "author": "Nordic Billing contributors",
    "maintainers": ["nordic-billing"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["membook_membership", "payment_paytrail"],
    "auto_install": True,
    "data": [
        "views/membook_bank_payment_views.xml",
    ],
    "assets": {
        "web.assets_tests": ["membook_payment_paytrail/static/tests/tours/*.js"],
    },
}
