/* Copyright 2026 Nordic Billing contributors
 * License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("collection_connector_approve_draft_list", {
  url: "/odoo/draft-collection-list",
  steps: () => [
    {
      content: "The overdue invoice waits on the draft collection list",
      trigger: ".o_data_row:contains('Tour Debtor Oy')",
    },
    {
      content: "Select it",
      trigger: ".o_data_row:contains('Tour Debtor Oy') .o_list_record_selector input",
      run: "click",
    },
    {
      content: "Approve the selection",
      trigger: ".o_control_panel button[name='action_approve']",
      run: "click",
    },
    {
      content: "It left the draft list",
      trigger: ".o_list_renderer:not(:has(.o_data_row:contains('Tour Debtor Oy')))",
    },
    {
      content: "Show every case",
      trigger: ".o_searchview .o_facet_remove",
      run: "click",
    },
    {
      content: "The case is approved and waits to be sent",
      trigger: ".o_data_row:contains('Tour Debtor Oy'):contains('Approved')",
    },
  ],
});
