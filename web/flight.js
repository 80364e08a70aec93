// The selected flight: a summary and the pilot's commands (return, hold, land, orbit or go
// to a point picked on the map, altitude). Every command's outcome is shown as the service
// reports it: accepted, rejected (with the reason) or unknown.

import { h } from "./dom.js";
import { formatDistance, label, metres, percent, seconds } from "./format.js";

export class FlightPanel {
  /**
   * @param {{summary: HTMLElement, controls: HTMLElement, result: HTMLElement, altitudeForm: HTMLFormElement, altitudeInput: HTMLInputElement}} els
   * @param {{onCommand: (flightId: string, body: object) => Promise<{ok: boolean, text: string}>, onPick: (kind: string) => Promise<[number, number]|null>}} handlers
   */
  constructor(els, { onCommand, onPick }) {
    this.els = els;
    this.onCommand = onCommand;
    this.onPick = onPick;
    this.flightId = null;
    for (const button of els.controls.querySelectorAll("[data-command]")) {
      button.addEventListener("click", () => this.send({ type: button.dataset.command }));
    }
    for (const button of els.controls.querySelectorAll("[data-pick]")) {
      button.addEventListener("click", () => this.pickAndSend(button));
    }
    els.altitudeForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const altRelM = Number(els.altitudeInput.value);
      if (!Number.isFinite(altRelM)) return;
      this.send({ type: "altitude", alt_rel_m: altRelM });
    });
  }

  async pickAndSend(button) {
    const kind = button.dataset.pick;
    const flightId = this.flightId;
    if (!flightId) return;
    button.setAttribute("aria-pressed", "true");
    this.show(`Click the map where to ${kind === "orbit" ? "orbit" : "fly"} (Enter: map centre, Esc: cancel).`, null);
    const point = await this.onPick(kind);
    button.setAttribute("aria-pressed", "false");
    if (!point) {
      this.show(`${kind}: cancelled`, null);
      return;
    }
    const [lat, lon] = point.map((v) => Number(v.toFixed(7)));
    await this.send({ type: kind, lat, lon }, flightId);
  }

  async send(body, flightId = this.flightId) {
    if (!flightId) return;
    this.show(`${body.type}: sending…`, null);
    const { ok, text } = await this.onCommand(flightId, body);
    this.show(text, ok);
  }

  show(text, ok) {
    const el = this.els.result;
    el.textContent = text;
    el.classList.toggle("ok", ok === true);
    el.classList.toggle("bad", ok === false);
  }

  /** @param {object|null} flight @param {object|null} drone @param {object|null} incident */
  render(flight, drone, incident, canCommand) {
    const { summary, controls } = this.els;
    controls.hidden = !canCommand;
    const changed = (flight?.id ?? null) !== this.flightId;
    this.flightId = flight?.id ?? null;
    if (changed) this.show("", null);
    for (const button of controls.querySelectorAll("button")) button.disabled = !flight || !flight.active;
    if (!flight) {
      const hint = drone
        ? `${drone.id} has no flight (${label(drone.phase)}).`
        : incident
          ? `Incident ${incident.cad_id} has no flight yet.`
          : "Select a drone or an incident with a flight.";
      summary.replaceChildren(hint);
      return;
    }
    summary.replaceChildren(
      h("strong", {}, `Flight ${flight.id}`),
      ` · drone ${flight.drone_id} · `,
      h("strong", { class: `phase-${flight.phase}`, dataset: { phase: flight.phase } }, label(flight.phase)),
      incident ? ` · ${incident.cad_id} P${incident.priority} ${incident.nature}` : "",
      drone ? ` · ${metres(drone.alt_rel_m)} rel · ${percent(drone.battery_pct)}` : "",
      flight.active ? "" : " · ended",
    );
    const route = flight.routeProps;
    if (route) {
      const notes = [...(route.notes ?? []), ...(route.reasons ?? [])];
      summary.append(
        h(
          "div",
          { class: "route-line" },
          `Route ${Number.isFinite(route.distance_m) ? formatDistance(route.distance_m) : "—"}, ETA ${seconds(route.eta_s)}`,
          route.authorisation_required ? h("span", { class: "warn" }, " · entering needs authorisation") : "",
        ),
        notes.length ? h("ul", { class: "route-notes" }, notes.map((n) => h("li", {}, n))) : "",
      );
    }
  }
}
