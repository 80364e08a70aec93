// The fleet panel: one row per drone — link, phase, mode, battery, altitude, speed — and
// "stale" when nothing was heard for longer than STALE_AFTER_MS.

import { h } from "./dom.js";
import { DASH, batteryClass, label, metres, percent, speed } from "./format.js";

export const STALE_AFTER_MS = 3000;

// Flight modes a phase normally flies in (MAVSDK names, lower case). Anything else while
// airborne is worth a look: a vehicle failsafe (e.g. geofence → hold) or a pilot's hold.
const PHASE_MODES = {
  launching: ["takeoff", "mission", "hold", "ready"],
  enroute: ["mission", "takeoff"],
  on_scene: ["posctl", "orbit", "hold", "mission"],
  returning: ["return_to_launch", "mission", "land"],
  landing: ["land", "return_to_launch"],
};

export function unexpectedMode(drone) {
  const modes = PHASE_MODES[drone.phase];
  return Boolean(modes && drone.mode && drone.mode !== "unknown" && !modes.includes(drone.mode));
}

export class FleetPanel {
  /** @param {HTMLTableSectionElement} body
   *  @param {{onSelect: (id: string) => void, onShare: (id: string) => void}} handlers */
  constructor(body, { onSelect, onShare }) {
    this.body = body;
    this.onSelect = onSelect;
    this.onShare = onShare;
    this.canShare = false; // a pilot's console: each row offers an officer link
    this.rows = new Map();
  }

  row(id) {
    let row = this.rows.get(id);
    if (!row) {
      const select = () => this.onSelect(id);
      row = h("tr", {
        tabindex: "0",
        dataset: { droneId: id },
        onclick: select,
        onkeydown: (event) => {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            select();
          }
        },
      });
      for (let i = 0; i < 7; i += 1) row.append(h("td"));
      this.body.append(row);
      this.rows.set(id, row);
    }
    return row;
  }

  /** @param {object[]} drones records with `stale_ms` (ms since last heard, or null) */
  render(drones, selectedId) {
    for (const drone of drones) {
      const row = this.row(drone.id);
      const [idCell, linkCell, phaseCell, modeCell, battCell, altCell, speedCell] = row.children;
      row.classList.toggle("selected", drone.id === selectedId);
      row.classList.toggle("stale", drone.stale);
      row.setAttribute("aria-selected", String(drone.id === selectedId));
      row.dataset.stale = String(drone.stale);
      idCell.replaceChildren(
        h("strong", {}, drone.id),
        " ",
        h(
          "a",
          {
            class: "video-link",
            href: `/view.html?drone=${encodeURIComponent(drone.id)}`,
            target: "_blank",
            title: `open ${drone.id}'s live video in a new tab`,
            onclick: (event) => {
              event.stopPropagation(); // not a row selection
              const token = sessionStorage.getItem("dfr.token");
              if (token) event.currentTarget.href = `/view.html?drone=${encodeURIComponent(drone.id)}#token=${encodeURIComponent(token)}`;
            },
          },
          "video",
        ),
      );
      if (this.canShare) {
        idCell.append(
          " ",
          h(
            "button",
            {
              type: "button",
              class: "share-link",
              dataset: { share: drone.id },
              title: `share ${drone.id}'s video and position with an officer (a link that expires)`,
              onclick: (event) => {
                event.stopPropagation();
                this.onShare(drone.id);
              },
            },
            "share",
          ),
        );
      }
      if (drone.stale) {
        idCell.append(h("span", { class: "stale-tag", title: "no telemetry received recently" }, drone.staleText));
      } else if (drone.link === "up" && drone.phase === "docked" && (drone.health_ok === false || drone.armable === false)) {
        const why = drone.health_ok === false ? "vehicle health checks failing" : "vehicle not armable (pre-arm checks)";
        idCell.append(h("span", { class: "stale-tag", title: why }, "not ready"));
      }
      linkCell.className = `link-${drone.link ?? "connecting"}`;
      linkCell.textContent = label(drone.link);
      phaseCell.className = `phase-${drone.phase}`;
      phaseCell.textContent = label(drone.phase);
      modeCell.textContent = drone.mode && drone.mode !== "unknown" ? label(drone.mode) : DASH;
      const odd = unexpectedMode(drone);
      modeCell.classList.toggle("mode-odd", odd);
      modeCell.title = odd ? `the vehicle is in ${label(drone.mode)}, not what the ${label(drone.phase)} phase flies in` : "";
      battCell.replaceChildren(h("span", { class: `batt ${batteryClass(drone.battery_pct)}` }, percent(drone.battery_pct)));
      altCell.textContent = metres(drone.alt_rel_m);
      speedCell.textContent = speed(drone.ground_speed_mps);
    }
  }
}
