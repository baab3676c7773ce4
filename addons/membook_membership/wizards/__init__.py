from . import membook_bank_file_import
from . import membook_payment_assign
