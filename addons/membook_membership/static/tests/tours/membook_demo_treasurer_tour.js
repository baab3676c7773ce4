/* Copyright 2026 Nordic Billing contributors
 * License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */
import { registry } from "@web/core/registry";

// The demo's club treasurer (Tampere Ski Club) finds their club's members, and only them.
registry.category("web_tour.tours").add("membook_demo_treasurer_members_tour", {
  url: "/odoo/action-membook_membership.res_partner_action_member?view_type=list",
  steps: () => [
    {
      content: "A member of Tampere Ski Club is listed",
      trigger: ".o_data_row:contains(Juho Mäkinen)",
    },
    {
      content: "No member of Helsinki Ski Club is",
      trigger: ".o_list_view:not(:has(.o_data_row:contains(Aino Virtanen)))",
    },
  ],
});

// ... and their club's settlement, and no other organisation's.
registry.category("web_tour.tours").add("membook_demo_treasurer_settlement_tour", {
  url: "/odoo/action-membook_membership.membook_settlement_action",
  steps: () => [
    {
      content: "The club's settlement is listed",
      trigger: ".o_data_row:contains(Tampere Ski Club)",
    },
    {
      content: "No other club's settlement is listed",
      trigger: ".o_list_view:not(:has(.o_data_row:contains(Helsinki Ski Club)))",
    },
  ],
});
