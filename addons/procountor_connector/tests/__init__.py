from . import (
    test_access,
    test_backend,
    test_chart_mapping,
    test_exchange,
    test_invoices,
    test_send_button,
    test_tour,
    test_vouchers,
)
from . import test_overview
