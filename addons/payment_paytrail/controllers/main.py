# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from werkzeug.exceptions import BadRequest

from odoo import http
from odoo.http import request

from nordic_billing import paytrail

from ..models.payment_transaction import CALLBACK_URL, RETURN_URL

_logger = logging.getLogger(__name__)


class PaytrailController(http.Controller):
    @http.route(
        RETURN_URL,
        type="http",
        auth="public",
        methods=["GET"],
        csrf=False,
        save_session=False,
    )
    def paytrail_return(self, **data):
        """The payer's browser, back from Paytrail. ``save_session=False`` as in Odoo's own
        providers: the session cookie may be missing on this cross-site hop; the status page
        that follows has it."""
        self._verify_and_process(data)
        return request.redirect("/payment/status")

    @http.route(CALLBACK_URL, type="http", auth="public", methods=["GET"], csrf=False)
    def paytrail_callback(self, **data):
        """Paytrail's server-to-server call; it wants an HTTP 2xx."""
        self._verify_and_process(data)
        return request.make_response("", status=200)

    @staticmethod
    def _verify_and_process(data):
        """Verify the signature before anything is changed: a wrong one answers 400."""
        tx_sudo = request.env["payment.transaction"].sudo()
        tx_sudo = tx_sudo._search_by_reference("paytrail", data)
        if not tx_sudo:
            raise BadRequest("Unknown payment.")
        try:
            tx_sudo.provider_id._paytrail_parse_return(data)
        except paytrail.PaytrailError as error:
            _logger.info("Paytrail: refused a redirect or callback of %s: %s", tx_sudo.reference,
                         error)  # fmt: skip
            raise BadRequest("Invalid signature.") from error
        tx_sudo._process("paytrail", data)
