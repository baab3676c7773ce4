# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Membership Billing (Nordic)",
    "summary": "Member register, organisation hierarchy, fee splits, billing runs, "
    "reference payments and weekly settlements",
    "version": "19.0.1.1.0",
    "category": "Membership",
    "website": "https://github.com/nordic-billing/nordic-billing",
    "author": "Nordic Billing contributors",
    "maintainers": ["nordic-billing"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "application": True,
    "depends": ["account_payment", "membership", "portal", "web_hierarchy"],
    "external_dependencies": {"python": ["nordic_billing"]},
    "data": [
        "security/membook_security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron.xml",
        "data/membook_sequence_data.xml",
        "data/mail_template_data.xml",
        "views/membook_organisation_views.xml",
        "views/res_partner_views.xml",
        "views/product_template_views.xml",
        "views/account_move_views.xml",
        "views/account_move_barcode_views.xml",
        "views/membook_billing_run_views.xml",
        "views/membook_bank_views.xml",
        "views/membook_settlement_views.xml",
        "views/portal_templates.xml",
        "views/membook_menus.xml",
        "report/report_invoice.xml",
        "views/membook_portal_grant_views.xml",
    ],
    "assets": {
        "web.assets_tests": ["membook_membership/static/tests/tours/*.js"],
    },
}
