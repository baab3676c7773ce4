# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Membership Debt Collection",
    "summary": "The draft collection list and collection cases in the Membership app, "
    "for membership managers",
    "version": "19.0.1.0.0",
    "category": "Membership",
    "website": "https://github.com/nordic-billing/nordic-billing",
    "author": "Nordic Billing contributors",
    "maintainers": ["nordic-billing"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["membook_membership", "collection_connector"],
    "auto_install": True,
    "demo": ["demo/membook_demo.xml"],
    "data": [
        "security/membook_collection_security.xml",
        "views/membook_collection_menus.xml",
    ],
    "uninstall_hook": "uninstall_hook",
}
