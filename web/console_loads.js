// What the console loads from the API besides the live streams: flights (with their
// history for a console opened mid-flight), incidents, docks, and the optional layers
// whose absence shows as a notice over the map rather than an error.

import { ApiError } from "./api.js";
import { TRACK_POINTS_MAX } from "./console_live.js";
import { lineCoords } from "./console_views.js";
import { label } from "./format.js";

export class ConsoleLoads {
  /** state: the console's state; log(): its EventLog; notice(key, text); refresh() now,
   *  schedule() on the next frame. */
  constructor({ state, log, notice, refresh, schedule }) {
    this.state = state;
    this.getLog = log;
    this.notice = notice;
    this.refresh = refresh;
    this.schedule = schedule;
    this.loading = new Set(); // flight ids being loaded
  }

  get log() {
    return this.getLog();
  }

  async optional(key, path, what) {
    try {
      const body = await this.state.api.get(path);
      this.notice(key, null);
      return body;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      this.notice(key, err.missing ? `${what}: not available on this service yet (${path} → 404)` : `${what}: ${err.message}`);
      return null;
    }
  }

  async loadFlights() {
    const flights = await this.optional("flights", "/flights?active=true", "Flights");
    for (const f of flights ?? []) await this.loadFlight(f.id, { withHistory: true });
  }

  /** withHistory: also log the flight's past phases and alerts (a console opened mid-flight). */
  async loadFlight(flightId, { withHistory = false } = {}) {
    if (this.loading.has(flightId)) return;
    this.loading.add(flightId);
    try {
      const [body, track] = await Promise.all([
        this.state.api.get(`/flights/${encodeURIComponent(flightId)}`),
        this.state.api.get(`/flights/${encodeURIComponent(flightId)}/track`).catch(() => null),
      ]);
      const known = this.state.flights.get(flightId);
      this.state.flights.set(flightId, {
        id: body.id,
        drone_id: body.drone_id,
        incident_id: body.incident_id,
        phase: known?.phase ?? body.phase,
        route: lineCoords(body.route),
        routeProps: body.route?.properties ?? null,
        track: [...lineCoords(track), ...(known?.track ?? [])].slice(-TRACK_POINTS_MAX),
      });
      if (withHistory) this.logHistory(body);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      this.notice("flights", err.missing ? "Flights: not available on this service yet" : `Flight ${flightId}: ${err.message}`);
    } finally {
      this.loading.delete(flightId);
    }
    this.refresh();
  }

  logHistory(flight) {
    for (const p of flight.phases ?? []) {
      this.log.add({ t: p.at, kind: "flight", text: `${flight.drone_id} ${label(p.phase)}${p.reason ? ` — ${p.reason}` : ""}` });
    }
    for (const a of flight.alerts ?? []) {
      const who = `${flight.drone_id} ${label(a.kind)}`;
      this.log.add({ t: a.at, kind: "alert", severity: a.severity, text: `${who}: ${a.message}${a.action ? ` → ${a.action}` : ""}` });
      // nobody has acknowledged it in this console yet
      if (a.severity === "critical") this.log.critical({ t: a.at, title: who, message: a.message, action: a.action });
    }
  }

  async loadIncident(incidentId) {
    try {
      const incident = await this.state.api.get(`/incidents/${encodeURIComponent(incidentId)}`);
      const known = this.state.incidents.get(incidentId);
      // a dispatch event may carry a decision the stored record does not show yet
      if (!incident.decision && known?.decision) incident.decision = known.decision;
      this.state.incidents.set(incidentId, incident);
      if (incident.flight_id && !this.state.flights.has(incident.flight_id)) this.loadFlight(incident.flight_id);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      this.log.add({ kind: "error", severity: "warning", text: `incident ${incidentId}: ${err.message}` });
    }
    this.refresh();
  }

  async reloadIncidents() {
    try {
      const incidents = await this.state.api.get("/incidents");
      for (const inc of incidents) {
        const known = this.state.incidents.get(inc.id);
        this.state.incidents.set(inc.id, { ...inc, decision: inc.decision ?? known?.decision ?? null });
      }
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
    }
    this.refresh();
  }

  async loadDocks() {
    try {
      this.state.docks = await this.state.api.get("/docks");
    } catch (err) {
      this.log.add({ kind: "dock", severity: "warning", text: `docks: ${err.message}` });
    }
    this.schedule();
  }
}
