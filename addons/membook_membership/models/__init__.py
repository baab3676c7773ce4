from . import membook_organisation, membook_organisation_level, res_partner
