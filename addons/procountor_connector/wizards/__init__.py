from . import procountor_voucher_wizard
