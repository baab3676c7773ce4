/* Copyright 2026 Nordic Billing contributors
 * License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("membook_unmatched_queue_tour", {
  url: "/odoo/action-membook_membership.membook_bank_payment_action_queue",
  steps: () => [
    {
      content: "The payment with a mistyped reference waits in the queue",
      trigger: ".o_data_row:contains(TOUR PAYER) button[name=action_assign_wizard]",
      run: "click",
    },
    {
      content: "The suggestion explains itself",
      trigger: ".modal .o_field_widget[name=suggestion_text]:contains(typo)",
    },
    {
      content: "The suggested invoice is preselected",
      trigger: ".modal .o_field_widget[name=invoice_ids] .o_tag",
    },
    {
      content: "Assign",
      trigger: ".modal button[name=action_assign]",
      run: "click",
    },
    {
      content: "The queue is empty",
      trigger:
        ".o_view_nocontent, .o_list_view:not(:has(.o_data_row:contains(TOUR PAYER)))",
    },
  ],
});
