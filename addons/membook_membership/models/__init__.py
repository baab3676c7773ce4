from . import (
    account_move,
    account_move_line,
    ir_sequence,
    membook_billing_run,
    membook_fee_split,
    membook_organisation,
    membook_organisation_level,
    membook_split_rule,
    product_template,
    res_partner,
)
