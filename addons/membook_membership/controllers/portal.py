# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import http
from odoo.http import request
from odoo.tools import email_normalize

from odoo.addons.portal.controllers.portal import CustomerPortal

# What a member may change of their own record on the membership page.
MEMBER_CONTACT_FIELDS = ("email", "phone", "street", "street2", "zip", "city")


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
        errors, contact = {}, {name: partner[name] or "" for name in MEMBER_CONTACT_FIELDS}
        if request.httprequest.method == "POST":
            # Only the fields of the form, and only ever on the member's own record: any other
            # parameter (an id, another field) is ignored.
            contact = {name: (kwargs.get(name) or "").strip() for name in MEMBER_CONTACT_FIELDS}
            errors = self._membook_contact_errors(partner, contact)
            if not errors:
                partner.sudo().write(
                    {
                        **{name: value or False for name, value in contact.items()},
                        "email": email_normalize(contact["email"]),
                    }
                )
                return request.redirect("/my/membership?updated=1")
        return request.render(
            "membook_membership.portal_my_membership",
            self._membook_membership_values(partner, contact, errors, kwargs.get("updated")),
        )

    def _membook_contact_errors(self, partner, contact):
        errors = {}
        email = email_normalize(contact["email"])
        if not email:
            errors["email"] = request.env._("Enter a valid e-mail address.")
        elif request.env["res.partner"].sudo().search_count(
            [
                ("id", "!=", partner.id),
                ("is_member", "=", True),
                ("email_normalized", "=", email),
            ],
            limit=1,
        ) or request.env["res.users"].sudo().with_context(active_test=False).search_count(
            [("login", "=", email), ("partner_id", "!=", partner.id)], limit=1
        ):
            errors["email"] = request.env._(
                "This e-mail address is already in use: contact the office to change it."
            )
        return errors

    def _membook_membership_values(self, partner, contact, errors, updated):
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
                "contact": contact,
                "errors": errors,
                "updated": bool(updated) and not errors,
                "organisation_name": member.member_organisation_id.complete_name or "",
                "state_label": dict(
                    member._fields["membership_state"]._description_selection(request.env)
                ).get(member.membership_state, ""),
                "invoices": invoices,
            }
        )
        return values
