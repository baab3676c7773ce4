from . import test_bank_day
from . import test_billing_run
from . import test_member
from . import test_organisation
from . import test_portal
from . import test_security
from . import test_split
from . import test_tours
