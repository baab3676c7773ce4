# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import http
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal


class MembookPortal(CustomerPortal):
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "membership_count" in counters:
            values["membership_count"] = 1 if request.env.user.partner_id.is_member else 0
        return values

    @http.route("/my/membership", type="http", auth="user", website=True)
    def portal_my_membership(self, **kwargs):
        """The logged-in member's own membership: never another partner's."""
        partner = request.env.user.partner_id
        if not partner.is_member:
            return request.redirect("/my")
        # The organisation and state are shown read-only; the member has no access to the
        # organisation records themselves.
        member = partner.sudo()
        invoices = request.env["account.move"].search(
            [
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("partner_id", "child_of", partner.commercial_partner_id.id),
            ],
            order="invoice_date desc, id desc",
            limit=20,
        )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "membership",
                "member": member,
                "organisation_name": member.member_organisation_id.complete_name or "",
                "state_label": dict(
                    member._fields["membership_state"]._description_selection(request.env)
                ).get(member.membership_state, ""),
                "invoices": invoices,
            }
        )
        return request.render("membook_membership.portal_my_membership", values)
