from . import (
    test_backend,
    test_backend_url,
    test_cases,
    test_reminders,
    test_sync,
    test_timing,
    test_tour,
)
