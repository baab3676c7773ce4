# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import email_normalize

_logger = logging.getLogger(__name__)

STATUSES = [
    ("invited", "Invited"),
    ("has_access", "Already has access"),
    ("internal", "Internal user"),
    ("no_email", "No e-mail"),
    ("shared_email", "E-mail used by another"),
    ("failed", "Not invited"),
]


class MembookPortalGrant(models.TransientModel):
    """Give the members of a selection, or of a billing run, their login to the member portal.

    Each member gets Odoo's portal invitation (the same as the contact's "Grant portal access"), in
    the member's own language. Members who cannot be given a login of their own (no e-mail, or an
    e-mail another member or user already has) are listed with the reason; members who already
    have a login are left alone, so running it again sends nothing twice.
    """

    _name = "membook.portal.grant"
    _description = "Grant members portal access"

    partner_ids = fields.Many2many(
        "res.partner", string="Members", domain=[("is_member", "=", True)]
    )
    billing_run_id = fields.Many2one("membook.billing.run", string="Members of billing run")
    state = fields.Selection([("draft", "Draft"), ("done", "Done")], default="draft")
    line_ids = fields.One2many("membook.portal.grant.line", "wizard_id", string="Result")
    invited_count = fields.Integer(compute="_compute_counts")
    listed_count = fields.Integer(compute="_compute_counts", string="Not invited")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        model, ids = self.env.context.get("active_model"), self.env.context.get("active_ids")
        if model == "res.partner" and ids and "partner_ids" in fields_list:
            members = self.env["res.partner"].browse(ids).filtered("is_member")
            values["partner_ids"] = [(6, 0, members.ids)]
        elif model == "membook.billing.run" and ids and "billing_run_id" in fields_list:
            values["billing_run_id"] = ids[0]
        return values

    @api.depends("line_ids.status")
    def _compute_counts(self):
        for wizard in self:
            invited = wizard.line_ids.filtered(lambda line: line.status == "invited")
            listed = wizard.line_ids.filtered(
                lambda line: line.status in ("no_email", "shared_email", "failed")
            )
            wizard.invited_count = len(invited)
            wizard.listed_count = len(listed)

    def _members(self):
        return (self.partner_ids | self.billing_run_id.line_ids.partner_id).filtered("is_member")

    def _address_holders(self, addresses):
        """For each e-mail address, the partners holding it: members with that e-mail, and the
        partners of users with that login (in any company: a login is unique database-wide)."""
        holders = defaultdict(set)
        if not addresses:
            return holders
        members = (
            self.env["res.partner"]
            .sudo()
            .with_context(active_test=False)
            .search_fetch(
                [("is_member", "=", True), ("email_normalized", "in", list(addresses))],
                ["email_normalized"],
            )
        )
        for partner in members:
            holders[partner.email_normalized].add(partner.id)
        users = (
            self.env["res.users"]
            .sudo()
            .with_context(active_test=False)
            .search_fetch([("login", "in", list(addresses))], ["login", "partner_id"])
        )
        for user in users:
            holders[user.login].add(user.partner_id.id)
        return holders

    def _holder_names(self, partner_ids):
        """The names of the partners sharing an address, as far as the user may read them."""
        others = self.env["res.partner"].browse(sorted(partner_ids))
        readable = others._filtered_access("read")
        names = readable.mapped("display_name")
        if others - readable:
            names.append(self.env._("a contact of another company"))
        return ", ".join(names)

    def _classify(self, members):
        """The status of each member who is not to be invited, and the members to invite."""
        emails = {member: email_normalize(member.email or "") for member in members}
        holders = self._address_holders({email for email in emails.values() if email})
        statuses, to_invite = {}, self.env["res.partner"]
        for member in members:
            users = member.sudo().with_context(active_test=False).user_ids
            email = emails[member]
            if any(user._is_internal() for user in users):
                statuses[member] = ("internal", "")
            elif users.filtered("active") and any(user._is_portal() for user in users):
                statuses[member] = ("has_access", users[0].login)
            elif not email:
                statuses[member] = ("no_email", member.email or "")
            elif others := holders[email] - {member.id}:
                statuses[member] = ("shared_email", self._holder_names(others))
            else:
                to_invite |= member
        return statuses, to_invite

    def _queue_invitations(self, users):
        """Queue Odoo's portal invitation to these users, each in their own language (the
        template's), as the portal access wizard sends it one by one (see _send_email)."""
        if not users:
            return
        template = self.env.ref("auth_signup.portal_set_password_email")
        template.with_context(dbname=self.env.cr.dbname, medium="portalinvite").send_mail_batch(
            users.ids
        )

    def action_grant(self):
        self.ensure_one()
        members = self._members()
        if not members:
            raise UserError(self.env._("Select members, or a billing run, to give access to."))
        statuses, to_invite = self._classify(members)
        # Odoo's own portal access wizard creates each user; its invitation is then queued for
        # all of them at once instead of sent one by one while the user waits.
        portal = (
            self.env["portal.wizard"]
            .with_context(membook_defer_portal_invitation=True)
            .create({"partner_ids": [(6, 0, to_invite.ids)]})
        )
        invited = self.env["res.users"]
        for portal_user in portal.user_ids.filtered(lambda u: u.partner_id in to_invite):
            member = portal_user.partner_id
            try:
                with self.env.cr.savepoint():
                    portal_user.action_grant_access()
            except UserError as error:
                _logger.info("Portal access not granted to partner %s: %s", member.id, error)
                statuses[member] = ("failed", str(error))
            else:
                invited |= portal_user.user_id
                statuses[member] = ("invited", email_normalize(member.email))
        self._queue_invitations(invited)
        self.line_ids = [
            (0, 0, {"partner_id": member.id, "status": status, "note": note})
            for member, (status, note) in sorted(
                statuses.items(), key=lambda item: (item[1][0], item[0].name or "")
            )
        ]
        self.state = "done"
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }


class PortalWizardUser(models.TransientModel):
    _inherit = "portal.wizard.user"

    def _send_email(self):
        if self.env.context.get("membook_defer_portal_invitation"):
            return True  # membook.portal.grant queues the invitations of all members at once
        return super()._send_email()


class MembookPortalGrantLine(models.TransientModel):
    _name = "membook.portal.grant.line"
    _description = "Member portal access result"
    _order = "status, id"

    wizard_id = fields.Many2one("membook.portal.grant", required=True, ondelete="cascade")
    partner_id = fields.Many2one("res.partner", string="Member", required=True, readonly=True)
    member_number = fields.Char(related="partner_id.member_number")
    status = fields.Selection(STATUSES, required=True, readonly=True)
    note = fields.Char(
        readonly=True, help="The login, the e-mail in question, or the partners sharing it."
    )
