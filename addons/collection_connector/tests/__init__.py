from . import test_backend, test_cases, test_reminders, test_sync, test_timing, test_tour
