#!/bin/bash
# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
# First start of `docker compose up`: build the database `demo` (tools/demo --if-missing), then
# serve Odoo with the addons and the bank folder root the demo's journal imports from.
set -euo pipefail
: "${HOST:=db}" "${PORT:=5432}" "${USER:=odoo}" "${PASSWORD:=odoo}"
export ODOO_ARGS="--db_host=$HOST --db_port=$PORT --db_user=$USER --db_password=$PASSWORD ${ODOO_ARGS:-}"
export MEMBOOK_BANK_FOLDER_ROOT="${MEMBOOK_BANK_FOLDER_ROOT:-/var/lib/odoo/bank-files}"
wait-for-psql.py --db_host "$HOST" --db_port "$PORT" --db_user "$USER" \
    --db_password "$PASSWORD" --timeout=60
python3 /src/tools/demo --if-missing --database "${DEMO_DATABASE:-demo}" \
    --logfile /var/lib/odoo/demo-build.log
conf=/var/lib/odoo/odoo-demo.conf
printf '[options]\nmembook_bank_folder_root = %s\n' "$MEMBOOK_BANK_FOLDER_ROOT" > "$conf"
# shellcheck disable=SC2086  # ODOO_ARGS holds several arguments
exec odoo -c "$conf" $ODOO_ARGS --addons-path=/src/addons "$@"
