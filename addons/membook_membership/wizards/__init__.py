from . import membook_bank_file_import
from . import membook_payment_assign
from . import membook_portal_grant
