// How the viewer page is let in, and what it may read. Three ways:
//
// - an officer's viewer link: /view.html#link=dfrv_… (the fragment never reaches a
//   server). The page opens it once (POST /viewer-links/open with the link as bearer),
//   which sets the link's HttpOnly cookie, then moves the address to ?view=<id> so a
//   reload reopens by the cookie. Sockets and reads carry ?view=<id>. The link shows one
//   drone and the call's nature and address (GET /viewer-link), nothing else;
// - a person signed in to the console (the session cookie): ?drone=ID;
// - a machine's token (?drone=ID#token=…, kept in sessionStorage for the tab).
//
// Every way answers the same questions: which drone, what call, the airspace and map,
// and the sockets' query. A refused read throws an Error with .status and .detail.

const TOKEN_KEY = "dfr.token"; // shared with the console (same tab)
const API = "/api/v1";

export class AccessError extends Error {
  constructor(status, detail, error = "") {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.error = error; // the service's error name, e.g. "SignInRequired"
  }

  /** The agency's policy opens links only for people signed in, and nobody is. */
  get signInRequired() {
    return this.error === "SignInRequired";
  }

  /** The credential itself is no good (expired, revoked, signed out), not a passing fault. */
  get refused() {
    return this.status === 401 || this.status === 403;
  }
}

async function readJson(response, path) {
  if (response.ok) return response.json();
  let detail = `${path}: HTTP ${response.status}`;
  let error = "";
  try {
    const body = await response.json();
    if (typeof body.detail === "string") detail = body.detail;
    if (typeof body.error === "string") error = body.error;
  } catch {
    // not JSON: keep the status line
  }
  throw new AccessError(response.status, detail, error);
}

function callOf(incident) {
  return {
    nature: incident.nature,
    priority: incident.priority,
    address: incident.address,
    lat: incident.location?.lat,
    lon: incident.location?.lon,
  };
}

/** A link's page: one drone, its call, by the link's cookie. */
class LinkAccess {
  constructor(linkId) {
    this.kind = "link";
    this.linkId = linkId;
    this.query = `view=${encodeURIComponent(linkId)}`;
  }

  static async open(text) {
    const response = await fetch(`${API}/viewer-links/open`, {
      method: "POST",
      headers: { Authorization: `Bearer ${text}`, Accept: "application/json" },
    });
    const view = await readJson(response, "/viewer-links/open");
    return [new LinkAccess(view.id), view];
  }

  async view() {
    const path = `/viewer-link?${this.query}`;
    return readJson(await fetch(`${API}${path}`, { headers: { Accept: "application/json" } }), path);
  }

  /** What the link shows now: the same as the service's view of it. */
  async current() {
    return this.view();
  }
}

/** A signed-in person's (cookie) or a machine's (token) view of one drone. */
class AccountAccess {
  constructor(droneId, token) {
    this.kind = token ? "token" : "session";
    this.droneId = droneId;
    this.token = token;
    this.query = token ? `token=${encodeURIComponent(token)}` : "";
  }

  async get(path) {
    const headers = { Accept: "application/json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    return readJson(await fetch(`${API}${path}`, { headers }), path);
  }

  async current(flightId) {
    const [site, airspace] = await Promise.all([this.get("/site"), this.get("/airspace")]);
    let call = null;
    if (flightId) {
      const flight = await this.get(`/flights/${encodeURIComponent(flightId)}`);
      if (flight.incident_id) call = callOf(await this.get(`/incidents/${encodeURIComponent(flight.incident_id)}`));
    }
    return { drone_id: this.droneId, flight_id: flightId ?? null, call, airspace, map: site.map, expires_at: null };
  }

  async check() {
    await this.get("/me");
  }
}

/** The link's text, once taken out of the address; kept in this page only, so that an
 *  officer the agency's policy makes sign in first can open it afterwards. */
let heldLinkText = null;

/** The page's access from its address; [access, the link's first view or null]. */
export async function pageAccess() {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const query = new URLSearchParams(window.location.search);
  const linkText = fragment.get("link") ?? heldLinkText;
  if (linkText) {
    // the link's text must not stay in the address bar, history or a screenshot
    heldLinkText = linkText;
    history.replaceState(null, "", window.location.pathname);
    const [access, view] = await LinkAccess.open(linkText);
    heldLinkText = null;
    query.delete("drone");
    query.set("view", access.linkId);
    history.replaceState(null, "", `${window.location.pathname}?${query}`);
    return [access, view];
  }
  if (query.get("view")) {
    const access = new LinkAccess(query.get("view"));
    return [access, await access.view()];
  }
  const fromFragment = fragment.get("token");
  if (fromFragment) {
    sessionStorage.setItem(TOKEN_KEY, fromFragment);
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  const droneId = query.get("drone");
  if (!droneId) throw new AccessError(0, "no drone in the address (?drone=ID), and no viewer link");
  const access = new AccountAccess(droneId, sessionStorage.getItem(TOKEN_KEY));
  await access.check();
  return [access, null];
}
