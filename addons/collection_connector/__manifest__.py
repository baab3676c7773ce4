# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Debt Collection Connector",
    "summary": "Reminder steps, draft collection list and cases at collection agencies "
    "over REST or SOAP",
    "version": "19.0.1.1.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/nordic-billing/nordic-billing",
    "author": "Nordic Billing contributors",
    "maintainers": ["nordic-billing"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["account", "base_cron_batch", "mail"],
    "external_dependencies": {"python": ["nordic_billing", "requests", "zeep"]},
    "data": [
        "security/collection_security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron.xml",
        "data/mail_template_data.xml",
        "views/collection_backend_views.xml",
        "views/collection_reminder_policy_views.xml",
        "views/collection_reminder_views.xml",
        "views/collection_case_views.xml",
        "views/collection_settlement_line_views.xml",
        "views/account_move_views.xml",
        "views/res_partner_views.xml",
        "views/res_config_settings_views.xml",
        "views/collection_menus.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "collection_connector/static/tests/tours/**/*",
        ],
    },
}
