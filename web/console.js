// The RTCC console: signs in, loads the site, follows /ws/events and /ws/telemetry, and
// keeps the map, the incident queue, the fleet, the selected flight and the log current.

import { Api, ApiError } from "./api.js";
import { applyEvent, applyTelemetry } from "./console_live.js";
import { droneView, extentPoints, zonesOf } from "./console_views.js";
import { clockTime, utcTime } from "./format.js";
import { EventLog } from "./log.js";
import { FleetPanel } from "./fleet.js";
import { FlightPanel } from "./flight.js";
import { SiteMap } from "./map.js";
import { IncidentQueue } from "./queue.js";
import { loadNotice, showSignIn, signInAccount, signInMessage, tokenFromFragment } from "./signin.js";
import { MetricsView } from "./metrics.js";
import { ConsoleLoads } from "./console_loads.js";
import { SharePanel } from "./share.js";
import { LiveSocket } from "./socket.js";

const TOKEN_KEY = "dfr.token";
const DRONE_REFRESH_MS = 3000;
const ENDED_PHASES = new Set(["docked", "aborted"]);
const $ = (id) => document.getElementById(id);

// -- state ----------------------------------------------------------------------------

const state = {
  api: null,
  canCommand: false,
  docks: [],
  drones: new Map(), // id -> latest body (GET /drones merged with telemetry) + heardAt
  incidents: new Map(), // id -> incident (+ decision)
  flights: new Map(), // id -> {id, drone_id, incident_id, phase, route: [[lon,lat]], track: [[lon,lat]]}
  zones: [],
  selected: { kind: null, id: null },
  sockets: [],
  notices: new Map(), // key -> text shown over the map (missing layers, failures)
};

let map;
let queue;
let fleet;
let flightPanel;
let share;
let log;
const loads = new ConsoleLoads({
  state,
  log: () => log,
  notice: (key, text) => notice(key, text),
  refresh: () => refreshAll(),
  schedule: () => scheduleRefresh(),
});

// -- sign-in --------------------------------------------------------------------------

/** Start the console as a session (token null: the cookie) or with a machine's token. */
async function signIn(token) {
  const api = new Api(token, (err) =>
    signOut(token ? "Your token was refused (expired or revoked). Sign in again." : `Signed out: ${err.message}.`, false),
  );
  let drones;
  try {
    drones = await api.get("/drones");
  } catch (err) {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn(err instanceof ApiError ? signInMessage(err, Boolean(token)) : String(err), Boolean(token));
    return;
  }
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  state.api = api;
  $("signin").hidden = true;
  $("console").hidden = false;
  try {
    await start(drones);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    notice("start", `Loading failed (${err.path}: ${err.message}); live updates continue. Reload to retry.`);
    if (state.sockets.length === 0) connectSockets();
    refreshAll();
  }
}

/** Leave the console; ``endSession``: also end the person's session on the service. */
async function signOut(message = null, endSession = true) {
  for (const socket of state.sockets) socket.stop();
  share.stop();
  state.sockets = [];
  sessionStorage.removeItem(TOKEN_KEY);
  if (endSession && state.api && !state.api.token) {
    await state.api.delete("/session").catch(() => {});
  }
  state.api = null;
  if (message) showSignIn(message);
  else window.location.reload();
}


// -- role -----------------------------------------------------------------------------

/**
 * Whether this token may launch and command. GET /me answers directly; until the service
 * has it, ask a question whose answer differs only by role and that changes nothing: an
 * empty EIDO post is refused with 403 for read-only roles before the body is read, and
 * with 422 (body is not JSON) for pilots.
 */
async function detectRole() {
  try {
    const me = await state.api.get("/me");
    return { name: me.name ?? "", role: me.role ?? "", canCommand: ["pilot", "supervisor", "admin"].includes(me.role) };
  } catch (err) {
    if (!(err instanceof ApiError) || !err.missing) throw err;
  }
  try {
    await state.api.post("/calls/eido", "");
    return { name: "", role: "pilot", canCommand: true };
  } catch (err) {
    if (err.status === 403) return { name: "", role: "read-only", canCommand: false };
    if (err.status === 422 || err.status === 400) return { name: "", role: "pilot", canCommand: true };
    throw err;
  }
}

// -- loading --------------------------------------------------------------------------

function notice(key, text) {
  if (text) state.notices.set(key, text);
  else state.notices.delete(key);
  $("map-notice").replaceChildren(
    ...[...state.notices.values()].map((t) => Object.assign(document.createElement("p"), { textContent: t })),
  );
}

async function start(drones) {
  for (const d of drones) state.drones.set(d.id, { ...d, heardAt: performance.now() });
  const [docks, incidents, airspace, role, site] = await Promise.all([
    state.api.get("/docks"),
    state.api.get("/incidents"),
    loads.optional("airspace", "/airspace", "Airspace"),
    detectRole().catch((err) => {
      if (!(err instanceof ApiError)) throw err;
      notice("role", `Could not tell this token's role (${err.message}); commands hidden.`);
      return { name: "", role: "unknown role", canCommand: false };
    }),
    loads.optional("site", "/site", "Site settings"),
  ]);
  map.setBasemap(site?.map ?? null);
  state.docks = docks;
  state.canCommand = role.canCommand;
  $("role").replaceChildren(
    "signed in: ",
    Object.assign(document.createElement("strong"), {
      textContent: role.name && role.role ? `${role.name} (${role.role})` : role.name || role.role,
    }),
    role.canCommand ? "" : " — read only",
  );
  $("role").dataset.canCommand = String(role.canCommand);
  fleet.canShare = role.canCommand;
  share.start(drones.map((d) => d.id), role.canCommand);
  for (const inc of incidents) state.incidents.set(inc.id, inc);
  state.zones = zonesOf(airspace);
  map.setExtent(extentPoints(state));
  await loads.loadFlights();
  refreshAll();
  connectSockets();
  for (const inc of incidents.filter((i) => i.status === "awaiting_pilot")) loads.loadIncident(inc.id);
}

// -- live -----------------------------------------------------------------------------

function onTelemetry(msg) {
  applyTelemetry(state, msg, { log, loadFlight: (id) => loads.loadFlight(id) });
  scheduleRefresh();
}

function onEvent(msg) {
  applyEvent(state, msg, {
    log,
    loadIncident: (id) => loads.loadIncident(id),
    loadFlight: (id) => loads.loadFlight(id),
    loadDocks: () => loads.loadDocks(),
  });
  scheduleRefresh();
}

function connectSockets() {
  const events = new LiveSocket(() => state.api.socketUrl("/ws/events"), {
    onMessage: onEvent,
    onState: (s, info) => {
      connState("conn-events", "events", s, info);
      if (s === "open" && events.opened) loads.reloadIncidents(); // catch up on what was missed
      if (s === "open") events.opened = true;
    },
  });
  const telemetry = new LiveSocket(() => state.api.socketUrl("/ws/telemetry"), {
    onMessage: onTelemetry,
    onState: (s, info) => connState("conn-telemetry", "telemetry", s, info),
  });
  state.sockets = [events, telemetry];
  events.start();
  telemetry.start();
}

function connState(id, name, s, info) {
  const el = $(id);
  el.dataset.state = s;
  const text = {
    connecting: `${name}: connecting`,
    open: `${name}: live`,
    reconnecting: `${name}: reconnecting${info.retryInMs ? ` in ${Math.ceil(info.retryInMs / 1000)} s` : "…"}`,
    refused: `${name}: refused (${info.reason})`,
    closed: `${name}: closed`,
  }[s];
  el.textContent = text ?? `${name}: ${s}`;
  if (s === "refused") signOut(`The service closed the ${name} stream: ${info.reason}`, false);
  if (s === "reconnecting" && info.code !== undefined) {
    log.add({ kind: "link", severity: "warning", text: `${name} stream lost; reconnecting` });
  }
}

// -- actions --------------------------------------------------------------------------

async function launch(incidentId, droneId) {
  try {
    const flight = await state.api.post(`/incidents/${encodeURIComponent(incidentId)}/launch`, droneId ? { drone_id: droneId } : {});
    log.add({ kind: "launch", text: `launched ${flight?.drone_id ?? droneId ?? ""} (flight ${flight?.id ?? "?"})` });
    if (flight?.id) {
      state.selected = { kind: "drone", id: flight.drone_id };
      loads.loadFlight(flight.id);
    }
    loads.loadIncident(incidentId);
    return `Launched: flight ${flight?.id ?? ""} with ${flight?.drone_id ?? droneId ?? "the chosen drone"}`;
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    const text = err.missing ? "Launch is not available on this service yet (404)." : `Launch refused: ${err.message}`;
    log.add({ kind: "launch", severity: "warning", text });
    return text;
  }
}

async function command(flightId, body) {
  try {
    const result = await state.api.post(`/flights/${encodeURIComponent(flightId)}/commands`, body);
    const ok = result?.state === "accepted";
    const detail = [result?.result, result?.detail].filter((v) => v && v !== result?.state).join(": ");
    const text = `${body.type}: ${result?.state ?? "sent"}${detail ? ` — ${detail}` : ""}`;
    // accepted commands reach everyone's log through the events stream
    if (!ok) log.add({ kind: "command", severity: "warning", text: `${flightId} ${text}` });
    if (!ok) map.markPoint(null);
    return { ok, text };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    let text;
    if (err.missing) text = `${body.type}: commands are not available on this service yet (404)`;
    else if (err.status === 422) text = `${body.type} refused: ${err.message}`;
    else if (err.status === 403) text = `${body.type}: your role may not command (${err.message})`;
    else text = `${body.type} failed: ${err.message}`;
    log.add({ kind: "command", severity: "warning", text: `${flightId} ${text}` });
    map.markPoint(null);
    return { ok: false, text };
  }
}

function select(kind, id) {
  state.selected = state.selected.kind === kind && state.selected.id === id ? { kind: null, id: null } : { kind, id };
  if (kind === "incident" && state.selected.id) loads.loadIncident(id);
  refreshAll();
}

// -- drawing --------------------------------------------------------------------------

/** The newest flight known for an incident (the list of incidents does not carry it). */
function flightOfIncident(incident) {
  const byId = incident.flight_id ? state.flights.get(incident.flight_id) : null;
  if (byId) return byId;
  let found = null;
  for (const f of state.flights.values()) if (f.incident_id === incident.id) found = f;
  return found;
}

function selectedFlight() {
  const { kind, id } = state.selected;
  let flightId = null;
  if (kind === "drone") flightId = state.drones.get(id)?.flight_id ?? null;
  if (kind === "incident") {
    const inc = state.incidents.get(id);
    flightId = inc ? (flightOfIncident(inc)?.id ?? inc.flight_id ?? null) : null;
  }
  if (!flightId) return null;
  const flight = state.flights.get(flightId) ?? { id: flightId, drone_id: state.drones.get(id)?.id ?? "?", phase: state.drones.get(id)?.phase ?? "unknown", track: [], route: [] };
  return { ...flight, active: !ENDED_PHASES.has(flight.phase) };
}

let refreshQueued = false;
function scheduleRefresh() {
  if (refreshQueued) return;
  refreshQueued = true;
  requestAnimationFrame(() => {
    refreshQueued = false;
    refreshAll();
  });
}

function refreshAll() {
  const now = performance.now();
  const drones = [...state.drones.values()].map((d) => droneView(state, d, now));
  const incidents = [...state.incidents.values()];
  const shownFlights = [...state.flights.values()].filter(
    (f) => !ENDED_PHASES.has(f.phase) || (state.selected.kind === "drone" && state.selected.id === f.drone_id),
  );
  map.update({
    zones: state.zones,
    docks: state.docks,
    drones: drones.filter((d) => d.lat !== null && d.lon !== null),
    incidents: incidents
      .filter((i) => ["new", "awaiting_pilot", "queued", "dispatched"].includes(i.status) || state.selected.id === i.id)
      .map((i) => ({ ...i, lat: i.location.lat, lon: i.location.lon })),
    routes: shownFlights.filter((f) => f.route.length > 1).map((f) => [f.id, f.route]),
    tracks: shownFlights.filter((f) => f.track.length > 1).map((f) => [f.id, f.track]),
    selected: state.selected,
  });
  queue.render(incidents, {
    canCommand: state.canCommand,
    selectedId: state.selected.kind === "incident" ? state.selected.id : null,
    droneIds: [...state.drones.keys()],
    flightOf: flightOfIncident,
  });
  fleet.render(drones, state.selected.kind === "drone" ? state.selected.id : null);
  const flight = selectedFlight();
  const drone = flight ? drones.find((d) => d.id === flight.drone_id) : state.selected.kind === "drone" ? drones.find((d) => d.id === state.selected.id) : null;
  const incident = flight?.incident_id ? state.incidents.get(flight.incident_id) : state.selected.kind === "incident" ? state.incidents.get(state.selected.id) : null;
  flightPanel.render(flight, drone ?? null, incident ?? null, state.canCommand);
}

/** Health and pre-arm state are not in the telemetry stream: refresh them now and then. */
async function refreshDrones() {
  try {
    for (const body of await state.api.background("/drones")) {
      const known = state.drones.get(body.id);
      if (known) Object.assign(known, { health_ok: body.health_ok, armable: body.armable, performance: body.performance });
      else state.drones.set(body.id, { ...body, heardAt: performance.now() });
    }
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
  }
}

function tickClock() {
  const now = new Date();
  $("clock").textContent = `${clockTime(now)} · ${utcTime(now)}`;
  $("clock").setAttribute("datetime", now.toISOString());
}

// -- boot -----------------------------------------------------------------------------

function boot() {
  loadNotice();
  log = new EventLog($("log"), $("critical"));
  map = new SiteMap($("map"), {
    onSelect: select,
    onHover: (text) => {
      $("map-hover").textContent = text;
    },
  });
  queue = new IncidentQueue($("queue"), $("queue-count"), { onSelect: (id) => select("incident", id), onLaunch: launch });
  fleet = new FleetPanel($("fleet"), {
    onSelect: (id) => select("drone", id),
    onShare: (id) => share.choose(id),
  });
  const metrics = new MetricsView(
    {
      form: $("metrics-form"),
      from: $("metrics-from"),
      to: $("metrics-to"),
      figures: $("metrics-figures"),
      charts: $("metrics-charts"),
      csv: $("metrics-csv"),
      status: $("metrics-status"),
    },
    () => state.api,
  );
  $("metrics-toggle").addEventListener("click", () => {
    const section = $("metrics");
    section.hidden = !section.hidden;
    $("metrics-toggle").setAttribute("aria-pressed", String(!section.hidden));
    if (!section.hidden) metrics.load();
  });
  share = new SharePanel(
    {
      form: $("share-form"),
      drone: $("share-drone"),
      label: $("share-label"),
      ttl: $("share-ttl"),
      result: $("share-result"),
      url: $("share-url"),
      copy: $("share-copy"),
      list: $("share-list"),
      status: $("share-status"),
    },
    () => state.api,
  );
  flightPanel = new FlightPanel(
    {
      summary: $("flight-summary"),
      controls: $("flight-controls"),
      result: $("command-result"),
      altitudeForm: $("altitude-form"),
      altitudeInput: $("altitude-m"),
    },
    {
      onCommand: command,
      onPick: async (kind) => {
        $("map-hint").hidden = false;
        $("map-hint").textContent = `${kind === "orbit" ? "Orbit" : "Go"} here: click the map · Enter = centre · Esc = cancel`;
        try {
          return await map.pickPoint(kind);
        } finally {
          $("map-hint").hidden = true;
        }
      },
    },
  );
  $("zoom-in").addEventListener("click", () => map.zoomBy(1.5));
  $("zoom-out").addEventListener("click", () => map.zoomBy(1 / 1.5));
  $("zoom-fit").addEventListener("click", () => map.fit());
  $("signout").addEventListener("click", () => signOut());
  $("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    signInAccount().then((signedIn) => signedIn && signIn(null));
  });
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("signin-token").value.trim();
    if (token) signIn(token);
  });
  tickClock();
  setInterval(() => {
    if (state.api) refreshDrones();
  }, DRONE_REFRESH_MS);
  setInterval(() => {
    tickClock();
    if (state.api) {
      queue.tick();
      refreshAll(); // staleness is a function of time, not only of messages
    }
  }, 1000);

  const token = tokenFromFragment() ?? sessionStorage.getItem(TOKEN_KEY);
  if (token) signIn(token);
  else {
    // a session cookie from an earlier sign-in (HttpOnly: only the service can tell)
    new Api(null)
      .background("/session")
      .then(() => signIn(null))
      .catch(() => showSignIn(null));
  }
}

boot();
