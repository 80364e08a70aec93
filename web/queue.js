// The incident queue: active calls by priority then age, the dispatcher's choice and why,
// and (for pilots) the Launch button with a drone picker when a call awaits a pilot.

import { h } from "./dom.js";
import { DASH, age, formatDistance, label, seconds } from "./format.js";

const ACTIVE = new Set(["new", "awaiting_pilot", "queued", "dispatched"]);
const DONE_SHOWN = 15;

function order(incidents) {
  const active = incidents
    .filter((i) => ACTIVE.has(i.status))
    .sort((a, b) => a.priority - b.priority || Date.parse(a.received_at) - Date.parse(b.received_at));
  const done = incidents
    .filter((i) => !ACTIVE.has(i.status))
    .sort((a, b) => Date.parse(b.updated_at ?? b.received_at) - Date.parse(a.updated_at ?? a.received_at))
    .slice(0, DONE_SHOWN);
  return [active, done];
}

function outcomeText(outcome) {
  return (
    {
      auto_launch: "launched automatically",
      awaiting_pilot: "awaiting a pilot's launch",
      queued: "queued: no drone can go now",
    }[outcome] ?? label(outcome)
  );
}

function energyText(r) {
  const needed = r.energy_needed_wh ?? r.energy_wh;
  if (!Number.isFinite(needed)) return DASH;
  return Number.isFinite(r.energy_usable_wh)
    ? `${Math.round(needed)} / ${Math.round(r.energy_usable_wh)} Wh`
    : `${Math.round(needed)} Wh`;
}

function decisionView(decision, compact) {
  if (!decision) return h("div", { class: "decision muted" }, "No dispatch decision yet.");
  if (compact) {
    const why = (decision.rejections ?? []).map((r) => `${r.drone_id} ${r.reason}`).join("; ");
    return h("div", { class: "decision compact", title: why }, h("strong", {}, outcomeText(decision.outcome)), why ? ` — ${why}` : "");
  }
  const ranking = decision.ranking ?? [];
  const rejections = decision.rejections ?? [];
  return h(
    "div",
    { class: "decision" },
    h(
      "div",
      {},
      "Dispatcher: ",
      h("strong", {}, outcomeText(decision.outcome)),
      decision.chosen_drone_id ? ` — chose ${decision.chosen_drone_id}` : "",
    ),
    ranking.length
      ? h(
          "table",
          { "aria-label": "Ranked candidates" },
          h(
            "tr",
            {},
            h("th", {}, "#"),
            h("th", {}, "drone"),
            h("th", {}, "ETA"),
            h("th", {}, "route"),
            h("th", { title: "energy needed (out + on scene + back) / usable above the reserve" }, "energy"),
          ),
          ranking.map((r, index) =>
            h(
              "tr",
              { class: r.drone_id === decision.chosen_drone_id ? "chosen" : "" },
              h("td", {}, String(index + 1)),
              h("td", {}, r.drone_id),
              h("td", {}, seconds(r.eta_s)),
              h(
                "td",
                {},
                Number.isFinite(r.distance_m) ? formatDistance(r.distance_m) : DASH,
                r.authorisation_required
                  ? h("span", { class: "warn", title: "the scene lies in controlled airspace: entering needs authorisation" }, " auth")
                  : "",
              ),
              h("td", {}, energyText(r)),
            ),
          ),
        )
      : null,
    rejections.length
      ? h(
          "ul",
          { class: "rejections", "aria-label": "Rejected drones" },
          rejections.map((r) => h("li", {}, h("strong", {}, r.drone_id), `: ${r.reason}`)),
        )
      : null,
  );
}

export class IncidentQueue {
  /**
   * @param {HTMLOListElement} list
   * @param {{onSelect: (id: string) => void, onLaunch: (id: string, droneId: string|null) => Promise<string>}} handlers
   */
  constructor(list, countEl, { onSelect, onLaunch }) {
    this.list = list;
    this.countEl = countEl;
    this.onSelect = onSelect;
    this.onLaunch = onLaunch;
    this.items = new Map(); // id -> {node, signature}
    this.launchNotes = new Map(); // id -> text shown under the Launch button
  }

  /** @param {object[]} incidents @param {{canCommand: boolean, selectedId: string|null, droneIds: string[]}} view */
  render(incidents, view) {
    const [active, done] = order(incidents);
    this.countEl.textContent = active.length ? `(${active.length} active)` : "";
    const shown = [...active, ...done];
    const keep = new Set(shown.map((i) => i.id));
    for (const [id, item] of this.items) {
      if (!keep.has(id)) {
        item.node.remove();
        this.items.delete(id);
      }
    }
    if (shown.length === 0) {
      if (!this.empty) this.empty = h("li", { class: "muted" }, "No calls. New CAD calls appear here.");
      this.list.replaceChildren(this.empty);
      return;
    }
    this.empty?.remove();
    shown.forEach((incident, index) => {
      const flight = view.flightOf(incident);
      const signature = JSON.stringify([incident, flight?.id, flight?.phase, view.canCommand, view.selectedId === incident.id, view.droneIds, this.launchNotes.get(incident.id)]);
      let item = this.items.get(incident.id);
      if (!item || item.signature !== signature) {
        const node = this.itemView(incident, view);
        if (item) item.node.replaceWith(node);
        item = { node, signature };
        this.items.set(incident.id, item);
      }
      if (this.list.children[index] !== item.node) this.list.insertBefore(item.node, this.list.children[index] ?? null);
    });
    this.tick();
  }

  /** Updates the ages in place (every second). */
  tick() {
    const now = Date.now();
    for (const span of this.list.querySelectorAll("[data-received]")) {
      span.textContent = age(now - Date.parse(span.dataset.received));
    }
  }

  itemView(incident, view) {
    const flight = view.flightOf(incident);
    const active = ACTIVE.has(incident.status);
    const selected = view.selectedId === incident.id;
    const classes = ["incident-item", `p${incident.priority}`];
    if (!active) classes.push("done");
    if (selected) classes.push("selected");
    const head = h(
      "button",
      {
        type: "button",
        class: "incident-head",
        "aria-expanded": String(selected),
        onclick: () => this.onSelect(incident.id),
      },
      h("span", { class: "prio", title: "priority (1 = most urgent)" }, `P${incident.priority}`),
      h("span", { class: "nature" }, incident.nature),
      h("span", { class: "age", title: "time since the call was received", dataset: { received: incident.received_at } }, ""),
      h("span", { class: `status status-${incident.status}` }, label(incident.status)),
    );
    const sub = h(
      "div",
      { class: "incident-sub" },
      `${incident.cad_id}${incident.address ? ` · ${incident.address}` : ""}`,
      flight ? ` · ${flight.drone_id} ${label(flight.phase)}` : "",
    );
    const parts = [head, sub];
    if (selected || incident.status === "awaiting_pilot" || incident.status === "queued") {
      if (incident.notes && selected) parts.push(h("div", { class: "incident-sub" }, incident.notes));
      parts.push(decisionView(incident.decision, !selected && incident.status === "queued"));
    }
    if (incident.status === "awaiting_pilot" && view.canCommand) parts.push(this.launchRow(incident, view));
    return h("li", { class: classes.join(" "), dataset: { incidentId: incident.id } }, parts);
  }

  launchRow(incident, view) {
    const ranked = (incident.decision?.ranking ?? []).map((r) => r.drone_id);
    const others = view.droneIds.filter((id) => !ranked.includes(id));
    const chosen = incident.decision?.chosen_drone_id ?? ranked[0] ?? null;
    const picker = h(
      "select",
      { class: "launch-drone", "aria-label": `Drone for ${incident.cad_id}` },
      h("option", { value: "" }, chosen ? `dispatcher's choice (${chosen})` : "dispatcher's choice"),
      ranked.map((id, index) => h("option", { value: id }, `${id} — ranked #${index + 1}`)),
      others.map((id) => h("option", { value: id }, `${id} — not ranked`)),
    );
    const note = this.launchNotes.get(incident.id);
    const button = h(
      "button",
      {
        type: "button",
        class: "primary launch",
        onclick: async () => {
          button.disabled = true;
          const text = await this.onLaunch(incident.id, picker.value || null);
          this.launchNotes.set(incident.id, text);
          button.disabled = false;
          const noteEl = button.parentElement?.nextElementSibling;
          if (noteEl?.classList.contains("launch-note")) noteEl.textContent = text;
        },
      },
      "Launch",
    );
    return [
      h("div", { class: "launch-row" }, picker, button),
      h("div", { class: "launch-note incident-sub", role: "status" }, note ?? ""),
    ];
  }
}
