from . import test_cron_batch
