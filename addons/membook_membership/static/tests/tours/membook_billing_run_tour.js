/* Copyright 2026 Nordic Billing contributors
 * License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("membook_billing_run_tour", {
  url: "/odoo/action-membook_membership.membook_billing_run_action",
  steps: () => [
    {
      content: "Create a billing run",
      trigger: ".o_control_panel_main_buttons .o_list_button_add",
      run: "click",
    },
    {
      content: "Name it",
      trigger: ".o_field_widget[name=name] input",
      run: "edit Tour fees 2026",
    },
    {
      content: "Pick the fee product",
      trigger: ".o_field_widget[name=product_ids] input",
      run: "edit Tour fee",
    },
    {
      trigger: ".ui-menu-item a:contains(Tour fee)",
      run: "click",
    },
    {
      content: "Only the tour club's members",
      trigger: ".o_field_widget[name=organisation_ids] input",
      run: "edit Tour Club",
    },
    {
      trigger: ".ui-menu-item a:contains(Tour Club)",
      run: "click",
    },
    {
      content: "Preview",
      trigger: "button[name=action_preview]",
      run: "click",
    },
    {
      content: "Two members to bill",
      trigger: ".o_field_widget[name=preview_member_count]:contains(2)",
    },
    {
      content: "Start billing",
      trigger: "button[name=action_start]",
      run: "click",
    },
    {
      content: "Confirm",
      trigger: ".modal-footer .btn-primary",
      run: "click",
    },
    {
      content: "The run is running",
      trigger: ".o_statusbar_status .o_arrow_button_current:contains(Running)",
    },
  ],
});
