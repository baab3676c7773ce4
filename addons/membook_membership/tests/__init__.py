from . import (
    test_billing_run,
    test_member,
    test_organisation,
    test_portal,
    test_security,
    test_split,
)
