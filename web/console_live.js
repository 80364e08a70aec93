// What the live streams do to the console's state: a telemetry message updates its
// drone and flight (phase, track), an event updates incidents, decisions and flights and
// says what happened in the log. The console passes the loaders for what it must fetch.

import { label } from "./format.js";

export const TRACK_POINTS_MAX = 5000;

/** A /ws/telemetry message into the state (drone, flight phase and track). */
export function applyTelemetry(state, msg, { log, loadFlight }) {
  if (msg.type !== "position" || !msg.drone_id) return;
  const known = state.drones.get(msg.drone_id) ?? { id: msg.drone_id };
  const drone = { ...known, ...msg, id: msg.drone_id, heardAt: performance.now() };
  if (known.link && msg.link && known.link !== msg.link) {
    if (msg.link === "lost") {
      log.add({ t: msg.t, kind: "link", severity: "warning", text: `${msg.drone_id} link lost — the vehicle's own failsafe acts; the service keeps listening` });
    } else if (msg.link === "up" && known.link === "lost") {
      log.add({ t: msg.t, kind: "link", text: `${msg.drone_id} link back` });
    }
  }
  state.drones.set(msg.drone_id, drone);
  if (msg.flight_id) {
    const flight = state.flights.get(msg.flight_id);
    if (!flight) loadFlight(msg.flight_id);
    else {
      if (msg.phase) flight.phase = msg.phase;
      if (msg.lat !== null && msg.lon !== null) {
        const last = flight.track[flight.track.length - 1];
        if (!last || last[0] !== msg.lon || last[1] !== msg.lat) flight.track.push([msg.lon, msg.lat]);
        if (flight.track.length > TRACK_POINTS_MAX) flight.track.splice(0, flight.track.length - TRACK_POINTS_MAX);
      }
    }
  }
}

/** A /ws/events message into the state and the log; what it names is reloaded. */
export function applyEvent(state, msg, { log, loadIncident, loadFlight, loadDocks }) {
  switch (msg.type) {
    case "incident": {
      if (!state.incidents.has(msg.incident_id)) {
        state.incidents.set(msg.incident_id, {
          id: msg.incident_id,
          cad_id: msg.cad_id,
          nature: msg.nature,
          priority: msg.priority,
          status: msg.status,
          location: { lat: msg.lat, lon: msg.lon },
          address: "",
          notes: "",
          received_at: msg.t,
          updated_at: msg.t,
          flight_id: null,
          decision: null,
        });
      }
      log.add({ t: msg.t, kind: "call", text: `P${msg.priority} ${msg.nature} (${msg.cad_id})` });
      loadIncident(msg.incident_id);
      break;
    }
    case "incident_updated":
      log.add({ t: msg.t, kind: "call", text: `${msg.cad_id ?? msg.incident_id}: ${msg.message ?? msg.changed?.join(", ")}` });
      loadIncident(msg.incident_id);
      break;
    case "dispatch": {
      const inc = state.incidents.get(msg.incident_id);
      const decision = {
        outcome: msg.outcome,
        chosen_drone_id: msg.chosen_drone_id,
        ranking: msg.ranking ?? [],
        rejections: msg.rejections ?? [],
      };
      if (inc) inc.decision = decision;
      const who = inc ? `${inc.cad_id} P${inc.priority} ${inc.nature}` : msg.incident_id;
      const choice = msg.chosen_drone_id ? `${msg.chosen_drone_id}` : "no drone";
      log.add({ t: msg.t, kind: "dispatch", text: `${who}: ${label(msg.outcome)} — ${choice}` });
      loadIncident(msg.incident_id);
      break;
    }
    case "flight_phase": {
      const flight = state.flights.get(msg.flight_id);
      if (flight) flight.phase = msg.phase;
      else loadFlight(msg.flight_id);
      const drone = state.drones.get(msg.drone_id);
      if (drone) drone.phase = msg.phase;
      const severity = msg.phase === "failsafe" || msg.phase === "aborted" ? "warning" : "info";
      log.add({ t: msg.t, kind: "flight", severity, text: `${msg.drone_id} ${label(msg.phase)}${msg.reason ? ` — ${msg.reason}` : ""}` });
      if (msg.incident_id) loadIncident(msg.incident_id);
      break;
    }
    case "command": {
      const ok = msg.state === "accepted";
      log.add({
        t: msg.t,
        kind: "command",
        severity: ok || msg.state === "pending" ? "info" : "warning",
        text: `${msg.drone_id ?? msg.flight_id} ${msg.command}: ${label(msg.state)}${msg.by ? ` (by ${msg.by})` : ""}${msg.detail ? ` — ${msg.detail}` : ""}`,
      });
      break;
    }
    case "alert": {
      const severity = msg.severity ?? "warning";
      const who = [msg.drone_id, msg.kind ? label(msg.kind) : null].filter(Boolean).join(" ");
      log.add({ t: msg.t, kind: "alert", severity, text: `${who}: ${msg.message}${msg.action ? ` → ${msg.action}` : ""}` });
      if (severity === "critical") log.critical({ t: msg.t, title: who, message: msg.message, action: msg.action });
      break;
    }
    case "dock_hold": {
      const text = msg.held
        ? `dock ${msg.dock_id} on hold: ${msg.reason} (by ${msg.by})`
        : `dock ${msg.dock_id}: hold lifted (by ${msg.by})`;
      log.add({ t: msg.t, kind: "dock", severity: msg.held ? "warning" : "info", text });
      loadDocks();
      break;
    }
    default:
      log.add({ t: msg.t, kind: msg.type ?? "event", text: JSON.stringify(msg).slice(0, 200) });
  }
}
