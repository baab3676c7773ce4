# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Plain-Python core of the Nordic membership-billing addons.

Nothing in this package imports Odoo: every decision that needs no database is made and tested here.
"""

__version__ = "19.0.1.0.0"
