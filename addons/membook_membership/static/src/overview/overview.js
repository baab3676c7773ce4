/* Copyright 2026 Nordic Billing contributors
 * License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl). */
import { Component, onWillStart, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";

/** The treasurer's overview: the figures of membook.overview's get_overview, one screen. */
export class MembookOverview extends Component {
    static template = "membook_membership.Overview";
    static props = { ...standardActionServiceProps };

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.state = useState({ data: null });
        onWillStart(() => this.load());
    }

    async load() {
        this.state.data = await this.orm.call("membook.overview", "get_overview", []);
    }

    get automaticText() {
        const automatic = this.state.data.automatic;
        return automatic.percent === null ? "–" : `${automatic.percent} %`;
    }

    open(action) {
        return this.actionService.doAction(action);
    }

    openRecord(model, id, name) {
        return this.actionService.doAction({
            type: "ir.actions.act_window",
            name,
            res_model: model,
            res_id: id,
            views: [[false, "form"]],
        });
    }

    openUnmatched() {
        return this.actionService.doAction("membook_membership.membook_bank_payment_action_queue");
    }

    openBankFiles(journalId) {
        return this.actionService.doAction({
            type: "ir.actions.act_window",
            name: _t("Bank Files"),
            res_model: "membook.bank.file",
            views: [
                [false, "list"],
                [false, "form"],
            ],
            domain: [["journal_id", "=", journalId]],
        });
    }
}

registry.category("actions").add("membook_overview", MembookOverview);
