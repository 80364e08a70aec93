// The alerts and events log (newest first) and the critical-alert banner, whose entries
// stay until a person acknowledges them.

import { h } from "./dom.js";
import { clockTime } from "./format.js";

const LOG_LIMIT = 300;

export class EventLog {
  constructor(list, banner) {
    this.list = list;
    this.banner = banner;
    this.seq = 0;
  }

  /** @param {{t?: string, kind: string, text: string, severity?: string}} entry */
  add({ t, kind, text, severity = "info" }) {
    const at = t ? new Date(t) : new Date();
    const item = h(
      "li",
      { class: `sev-${severity}`, dataset: { kind, severity } },
      h("time", { datetime: at.toISOString() }, clockTime(at)),
      h("span", { class: "kind" }, kind),
      h("span", { class: "text" }, text),
    );
    // newest first, also for history loaded after live entries
    const later = [...this.list.children].find((li) => Date.parse(li.firstChild.getAttribute("datetime")) <= at.getTime());
    this.list.insertBefore(item, later ?? null);
    while (this.list.children.length > LOG_LIMIT) this.list.lastElementChild.remove();
  }

  /** A critical alert: in the log, and in the banner until acknowledged. */
  critical({ t, title, message, action }) {
    this.seq += 1;
    const id = `critical-${this.seq}`;
    const at = t ? new Date(t) : new Date();
    const ack = h("button", { type: "button", class: "ack" }, "Acknowledge");
    const item = h(
      "div",
      { class: "critical-item", id, dataset: { alert: "critical" } },
      h("time", { datetime: at.toISOString() }, clockTime(at)),
      h("span", { class: "what" }, title),
      h("span", {}, message),
      action ? h("span", { class: "action" }, `→ ${action}`) : null,
      ack,
    );
    ack.addEventListener("click", () => {
      item.remove();
      this.add({ kind: "ack", text: `acknowledged: ${title} ${message}` });
    });
    this.banner.prepend(item);
  }
}
