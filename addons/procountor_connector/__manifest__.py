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
    "depends": ["base_cron_batch", "membook_membership"],
    "external_dependencies": {"python": ["nordic_billing", "requests"]},
    "demo": ["demo/membook_demo.xml"],
    "data": [
        "security/procountor_security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron.xml",
        "views/procountor_backend_views.xml",
        "views/procountor_chart_views.xml",
        "views/procountor_product_mapping_views.xml",
        "views/procountor_exchange_views.xml",
        "views/res_partner_views.xml",
        "views/account_move_views.xml",
        "views/membook_trail_views.xml",
        "views/product_template_views.xml",
        "wizards/procountor_voucher_wizard_views.xml",
        "views/procountor_menus.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "procountor_connector/static/tests/tours/*.js",
        ],
    },
}
