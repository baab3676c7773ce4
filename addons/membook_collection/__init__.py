# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command

from . import models


def uninstall_hook(env):
    """Membership managers lose the debt-collection rights this addon gave them (the link
    lives on a group of another addon, so uninstalling would keep it)."""
    manager = env.ref("membership.group_membership_manager", raise_if_not_found=False)
    user = env.ref("collection_connector.group_collection_user", raise_if_not_found=False)
    if manager and user and user in manager.implied_ids:
        manager.implied_ids = [Command.unlink(user.id)]
