/* Copyright 2026 Nordic Billing contributors
 * License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */
import {registry} from "@web/core/registry";
import {stepUtils} from "@web_tour/tour_utils";

function pick(field, text) {
    return [
        {
            content: `Type ${text} into ${field}`,
            trigger: `.o_field_widget[name='${field}'] input`,
            run: `edit ${text}`,
        },
        {
            content: `Choose ${text}`,
            trigger: `.o_field_widget[name='${field}'] .dropdown-item:contains('${text}')`,
            run: "click",
        },
    ];
}

registry.category("web_tour.tours").add("procountor_product_mapping", {
    url: "/odoo/procountor-product-mappings",
    steps: () => [
        {
            content: "Create a mapping",
            trigger: ".o_control_panel_main_buttons .o_list_button_add",
            run: "click",
        },
        ...pick("backend_id", "Tour books"),
        ...pick("product_id", "Tour fee"),
        ...pick("organisation_id", "Tour Club"),
        {
            content: "The closed account 3999 is not offered",
            trigger: ".o_field_widget[name='account_id'] input",
            run: "edit 399",
        },
        {
            content: "Only 'No records' is offered",
            trigger: ".o_field_widget[name='account_id'] .o_m2o_no_result",
        },
        ...pick("account_id", "3050"),
        ...pick("dimension_item_ids", "SEURA"),
        ...stepUtils.saveForm(),
        {
            content: "The mapping is saved under its product and organisation",
            trigger: ".o_breadcrumb:contains('Tour fee (Tour Club)')",
        },
    ],
});
