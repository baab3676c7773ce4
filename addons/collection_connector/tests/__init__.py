from . import test_backend, test_reminders, test_timing
