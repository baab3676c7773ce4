# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What the set-based paths (bank day reconciliation, invoice copies) check in the registry
before writing in SQL what Odoo's methods would: they know the stored fields and the overrides
of the modules they were written against, and leave any other to Odoo's path."""

import psycopg2

# Errors of a fast path that the batch is done again through Odoo's path for: the database's
# (but a conflict with another transaction, which is taken again as it is) and programming
# errors, say after an upgrade of Odoo changed a table the fast path writes.
FAST_PATH_ERRORS = (psycopg2.Error, LookupError, TypeError, ValueError, AttributeError)


def stored_dependents(env, model, names):
    """``model.field`` of each stored field depending on the fields ``names`` of ``model``."""
    registry = env.registry
    return {
        f"{dependent.model_name}.{dependent.name}"
        for name in names
        for dependent in registry.get_dependent_fields(env[model]._fields[name])
        if dependent.store
    }


def overriding_modules(env, model, method):
    """The modules whose classes of ``model`` define ``method``, the last installed first."""
    return [
        cls._module
        for cls in type(env[model]).__mro__
        if getattr(cls, "_module", None) and method in vars(cls)
    ]


# System parameter that turns the set-based paths off ("off"): the billing run lets Odoo make
# every invoice and the bank day reconciles through Odoo's path (see readme/CONFIGURE.md).
FAST_PATHS_PARAM = "membook_membership.sql_fast_paths"


def fast_paths_off(env):
    """Why the set-based paths are not to be used (a sentence for the log), or ``None``.

    Off by the system parameter, or for the rest of a batch whose fast path failed
    (``membook_fast_paths_off`` in the context holds why)."""
    if reason := env.context.get("membook_fast_paths_off"):
        return reason
    value = env["ir.config_parameter"].sudo().get_param(FAST_PATHS_PARAM, "on")
    if str(value).strip().lower() in ("off", "0", "false", "no"):
        return f"the system parameter {FAST_PATHS_PARAM} turns the SQL fast paths off"
    return None
