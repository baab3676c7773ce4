/* Copyright 2026 Nordic Billing contributors
 * License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("membook_overview_tour", {
  steps: () => [
    {
      content: "The overview says one payment waits in the queue",
      trigger: ".o_membook_overview .o_membook_unmatched .fs-3:contains(1)",
    },
    {
      content: "Money came in this week",
      trigger: ".o_membook_overview .o_membook_money_week:contains(2 payments)",
    },
    {
      content: "The bank journal's last file is listed",
      trigger: ".o_membook_overview .o_membook_bank_files:contains(tour.xml)",
    },
    {
      content: "Open the unmatched queue from its card",
      trigger: ".o_membook_queue_unmatched .o_membook_queue_open",
      run: "click",
    },
    {
      content: "The queue lists the payment",
      trigger: ".o_list_view .o_data_row:contains(TOUR NOBODY)",
    },
  ],
});
