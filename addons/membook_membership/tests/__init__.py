from . import test_organisation, test_security
