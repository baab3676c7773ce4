/* Copyright 2026 Nordic Billing contributors
 * License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("membook_paytrail_portal_pay_tour", {
  url: "/my/invoices",
  steps: () => [
    {
      content: "Open the fee invoice",
      trigger: "a[href*='/my/invoices/']:contains(INV)",
      run: "click",
      expectUnloadPage: true,
    },
    {
      content: "Nothing is paid yet",
      trigger: "body:not(:has(div[name=invoice_paid_badge]))",
    },
    {
      content: "Pay now",
      trigger: "a[data-bs-target='#pay_with']",
      run: "click",
    },
    {
      content: "Choose Paytrail",
      trigger: "#pay_with input[name=o_payment_radio][data-provider-code=paytrail]",
      run: "click",
    },
    {
      content: "Go to Paytrail's payment page (the tester picks a bank there)",
      trigger: "#pay_with button[name=o_payment_submit_button]:enabled",
      run: "click",
      expectUnloadPage: true,
    },
    {
      content: "Back from Paytrail: the invoice is paid",
      trigger: "div[name=invoice_paid_badge]:contains(Paid)",
    },
  ],
});
