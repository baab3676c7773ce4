# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.exceptions import UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import CollectionCommon


@tagged("post_install", "-at_install")
class TestBackendUrl(CollectionCommon):
    """The service URL is the agency's address: the connection adds the protocol's path, and
    says so when the URL holds it already or nothing answers under it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="collection-url-manager",
            groups="base.group_user,collection_connector.group_collection_manager",
        )

    def test_url_with_the_protocol_path_is_refused_with_the_address_to_enter(self):
        for protocol, suffix in (("generic_rest", "/rest/v1"), ("generic_soap", "/soap")):
            with self.subTest(protocol=protocol):
                with self.assertRaisesRegex(ValidationError, suffix) as caught:
                    self._create_backend(
                        f"Doubled {protocol}", protocol=protocol, url=self.sandbox.url + suffix
                    )
                self.assertIn(self.sandbox.url, str(caught.exception))

    def test_the_sandbox_address_connects(self):
        self.backend.with_user(self.manager).action_test_connection()

    def test_wrong_path_says_what_the_connection_adds(self):
        backend = self._create_backend("Wrong path", url=self.sandbox.url + "/agency")
        with self.assertRaisesRegex(UserError, "Nothing answers at .*/agency/rest/v1"):
            backend.with_user(self.manager).action_test_connection()
