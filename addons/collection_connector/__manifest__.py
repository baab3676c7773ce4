# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Debt Collection Connector",
    "summary": "Reminder steps, draft collection list and cases at collection agencies "
    "over REST or SOAP",
    "version": "19.0.1.0.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/nordic-billing/nordic-billing",
    "author": "Nordic Billing contributors",
    "maintainers": ["nordic-billing"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["account", "mail"],
    "external_dependencies": {"python": ["nordic_billing", "requests", "zeep"]},
    "data": [
        "security/collection_security.xml",
        "security/ir.model.access.csv",
        "views/collection_backend_views.xml",
        "views/collection_menus.xml",
    ],
}
