# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Procountor Connector",
    "summary": "Chart of accounts and dimensions from Procountor, weekly memo vouchers, "
    "invoice channels and paid-status sync",
    "version": "19.0.1.0.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/nordic-billing/nordic-billing",
    "author": "Nordic Billing contributors",
    "maintainers": ["nordic-billing"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["membook_membership"],
    "external_dependencies": {"python": ["nordic_billing", "requests"]},
    "data": [
        "security/procountor_security.xml",
        "security/ir.model.access.csv",
        "views/procountor_backend_views.xml",
        "views/procountor_menus.xml",
    ],
}
