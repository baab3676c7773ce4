# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Payment Provider: Paytrail",
    "summary": "Online payments with every Finnish bank and card through Paytrail",
    "version": "19.0.1.0.0",
    "category": "Accounting/Payment Providers",
    "website": "https://github.com/nordic-billing/nordic-billing",
    "author": "Nordic Billing contributors",
    "maintainers": ["nordic-billing"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["account_payment"],
    "external_dependencies": {"python": ["nordic_billing", "requests"]},
    "data": [
        "views/payment_paytrail_templates.xml",
        "views/payment_provider_views.xml",
        "views/payment_transaction_views.xml",
        "data/payment_provider_data.xml",
    ],
    "post_init_hook": "post_init_hook",
    "uninstall_hook": "uninstall_hook",
}
