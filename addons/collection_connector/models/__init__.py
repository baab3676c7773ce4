from . import (
    account_move,
    account_partial_reconcile,
    collection_backend,
    collection_case,
    collection_operation,
    collection_reminder,
    collection_reminder_policy,
    collection_reminder_step,
    collection_settlement_line,
    res_company,
    res_config_settings,
    res_partner,
)
