/* Copyright 2026 Nordic Billing contributors
 * License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */
import { registry } from "@web/core/registry";

// The demo's club treasurer (Tampere Ski Club) finds their club's members, and searching for a
// member of another club finds nobody.
registry.category("web_tour.tours").add("membook_demo_treasurer_members_tour", {
  url: "/odoo/action-membook_membership.res_partner_action_member?view_type=list",
  steps: () => [
    {
      content: "The members are listed",
      trigger: ".o_list_view .o_data_row",
    },
    {
      content: "Search for a member of Helsinki Ski Club",
      trigger: ".o_searchview_input",
      run: "edit Aino Virtanen",
    },
    {
      content: "By name",
      trigger: ".o-dropdown-item:contains(Aino Virtanen)",
      run: "click",
    },
    {
      content: "The search is applied",
      trigger: ".o_searchview_facet:contains(Aino Virtanen)",
    },
    {
      content: "... and finds nobody: the treasurer does not see another club's members",
      trigger: ".o_view_nocontent, .o_list_view:not(:has(.o_data_row))",
    },
    {
      content: "Clear the search",
      trigger: ".o_searchview_facet:contains(Aino Virtanen) .o_facet_remove",
      run: "click",
    },
    {
      content: "A member of Tampere Ski Club is listed",
      trigger: ".o_data_row:contains(Juho Mäkinen)",
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
