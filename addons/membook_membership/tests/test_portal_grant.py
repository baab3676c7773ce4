# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import Counter

from odoo.tests import new_test_user, tagged

from odoo.addons.mail.tests.common import MockEmail

from .common import MembookCommon

LANGS = ["fi_FI", "sv_SE", "nb_NO", "en_US"]
# The invitation's subject per language: Odoo's own Finnish and Swedish translations; Odoo has
# no Norwegian one, so the test gives the template one (as a translator would).
SUBJECTS = {
    "fi_FI": "Tilisi yrityksessä",
    "sv_SE": "Ditt konto på",
    "nb_NO": "Din konto hos",
    "en_US": "Your account at",
}
# 247 members: 80 get a login, 81 have no (valid) e-mail, 82 share theirs, 5 have a login.
UNIQUE = 80
NO_EMAIL = 80
HOUSEHOLDS = 40


@tagged("post_install", "-at_install")
class TestPortalGrant(MembookCommon, MockEmail):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for lang in LANGS[:3]:
            cls.env["res.lang"]._activate_lang(lang)
        cls.env["ir.module.module"]._load_module_terms(["auth_signup"], ["fi_FI", "sv_SE"])
        template = cls.env.ref("auth_signup.portal_set_password_email")
        template.with_context(lang="nb_NO").subject = "Din konto hos {{ object.company_id.name }}"
        cls.company.email = "office@skiclub.example.com"
        Partner = cls.env["res.partner"]
        member = {"is_member": True, "member_organisation_id": cls.club.id}
        cls.unique = Partner.create(
            [
                {
                    **member,
                    "name": f"Member {n:03d}",
                    "email": f"Member.{n:03d}@Example.com",
                    "lang": LANGS[n % 4],
                }
                for n in range(UNIQUE)
            ]
        )
        cls.no_email = Partner.create(
            [{**member, "name": f"No E-mail {n}"} for n in range(NO_EMAIL)]
            + [{**member, "name": "Not An Address", "email": "not an address"}]
        )
        # Households where two members share one address: neither gets the login.
        cls.sharing = Partner.create(
            [
                {**member, "name": f"Household {n} {who}", "email": f"home{n}@example.com"}
                for n in range(HOUSEHOLDS)
                for who in ("A", "B")
            ]
        )
        # A member outside the selection already uses this address.
        cls.outside = Partner.create({**member, "name": "Outside", "email": "twin@example.com"})
        cls.twin = Partner.create({**member, "name": "Twin", "email": "twin@example.com"})
        # The address is an existing user's login (a staff member's).
        new_test_user(cls.env, login="staff@example.com", groups="base.group_user")
        cls.staff_address = Partner.create(
            {**member, "name": "Staff Address", "email": "staff@example.com"}
        )
        # Members with a portal login already.
        cls.existing = Partner.create(
            [
                {**member, "name": f"Existing {n}", "email": f"existing{n}@example.com"}
                for n in range(5)
            ]
        )
        portal = cls.env.ref("base.group_portal")
        for partner in cls.existing:
            cls.env["res.users"].with_context(no_reset_password=True).create(
                {"login": partner.email, "partner_id": partner.id, "group_ids": portal.ids}
            )
        cls.selection = (
            cls.unique | cls.no_email | cls.sharing | cls.twin | cls.staff_address | cls.existing
        )
        # A contact who is not a member is not given access by the members' action.
        cls.not_member = Partner.create({"name": "Supplier", "email": "supplier@example.com"})

    def _grant(self, partners):
        wizard = (
            self.env["membook.portal.grant"]
            .with_user(self.user_member)
            .with_context(active_model="res.partner", active_ids=partners.ids)
            .create({})
        )
        with self.mock_mail_gateway():
            wizard.action_grant()
        # The invitations are queued (the mail queue sends them), never sent while one waits.
        self.assertFalse(self._mails)
        return wizard, self._new_mails

    def test_bulk_grant_lists_what_it_cannot_do_and_sends_nothing_twice(self):
        wizard, mails = self._grant(self.selection | self.not_member)
        status = {line.partner_id: line.status for line in wizard.line_ids}
        self.assertEqual(len(status), len(self.selection))
        self.assertNotIn(self.not_member, status)
        self.assertEqual(
            Counter(status.values()),
            Counter(
                invited=UNIQUE,
                no_email=NO_EMAIL + 1,
                shared_email=2 * HOUSEHOLDS + 2,
                has_access=5,
            ),
        )
        self.assertEqual({status[p] for p in self.unique}, {"invited"})
        self.assertEqual({status[p] for p in self.no_email}, {"no_email"})
        self.assertEqual({status[p] for p in self.sharing | self.twin}, {"shared_email"})
        self.assertEqual(status[self.staff_address], "shared_email")
        self.assertEqual({status[p] for p in self.existing}, {"has_access"})
        note = wizard.line_ids.filtered(lambda line: line.partner_id == self.twin).note
        self.assertEqual(note, "Outside")
        self.assertEqual(
            (wizard.invited_count, wizard.listed_count), (UNIQUE, NO_EMAIL + 2 * HOUSEHOLDS + 3)
        )

        # One invitation per new login, to the member's own address, in the member's language.
        self.assertEqual(len(mails), UNIQUE)
        self.assertEqual(mails.mapped("state"), ["outgoing"] * UNIQUE)
        self.assertEqual(mails.recipient_ids, self.unique)
        for mail in mails:
            member = mail.recipient_ids
            user = member.user_ids
            self.assertEqual((mail.model, mail.res_id), ("res.users", user.id))
            self.assertEqual(user.login, member.email.lower())
            self.assertTrue(user._is_portal())
            self.assertEqual(user.lang, member.lang)
            self.assertIn(SUBJECTS[member.lang], mail.subject)
        self.assertFalse((self.no_email | self.sharing | self.twin | self.outside).user_ids)

        # Again: everybody has access or is still listed; no mail at all.
        rerun, mails = self._grant(self.selection)
        self.assertFalse(mails)
        self.assertEqual(rerun.invited_count, 0)
        self.assertEqual(
            Counter(rerun.line_ids.mapped("status")),
            Counter(has_access=UNIQUE + 5, no_email=NO_EMAIL + 1, shared_email=2 * HOUSEHOLDS + 2),
        )

    def test_members_of_a_billing_run(self):
        run = self.env["membook.billing.run"].create({"name": "Fees", "period_key": "2026"})
        self.env["membook.billing.run.line"].create(
            [{"run_id": run.id, "partner_id": p.id} for p in self.unique[:3] | self.no_email[:1]]
        )
        wizard = (
            self.env["membook.portal.grant"]
            .with_user(self.user_member)
            .with_context(active_model="membook.billing.run", active_ids=run.ids)
            .create({})
        )
        self.assertEqual(wizard.billing_run_id, run)
        with self.mock_mail_gateway():
            wizard.action_grant()
        self.assertEqual(self._new_mails.recipient_ids, self.unique[:3])
        self.assertEqual(sorted(wizard.line_ids.mapped("status")), ["invited"] * 3 + ["no_email"])
