# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The backend's protocol now names a registered agency adapter (``adapter_choices()``)."""

from odoo.tools import SQL

PROTOCOLS = {"rest": "generic_rest", "soap": "generic_soap"}


def migrate(cr, version):
    if not version:
        return
    for old, new in PROTOCOLS.items():
        cr.execute(SQL("UPDATE collection_backend SET protocol = %s WHERE protocol = %s", new, old))
