from . import (
    account_move,
    procountor_account,
    procountor_backend,
    procountor_dimension,
    procountor_dimension_item,
    procountor_exchange,
    procountor_product_mapping,
    procountor_voucher_line,
    product_template,
    res_partner,
)
from . import membook_demo
from . import membook_overview
