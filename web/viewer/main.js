// The officer's viewer: one drone's live video full width, its position and the scene on
// a small map, the call's nature and address, a live-latency readout from the frame on
// screen, state banners and reconnects; and, for a viewer link, a clear "expired" page
// once the link is revoked or runs out (its sockets closed). How the page is let in —
// a link, a signed-in person, a machine's token — is ./access.js.
// URLs: /view.html#link=dfrv_…  ·  /view.html?drone=fw1[&mode=mse|webcodecs]

import { LiveSocket } from "../socket.js";
import { DASH, metres, percent, speed } from "../format.js";
import { MiniMap } from "../mini_map.js";
import { loadNotice, showSignIn, signInAccount } from "../signin.js";
import { AccessError, pageAccess } from "./access.js";
import { MsePlayer } from "./mse_player.js";
import { ViewerStats } from "./stats.js";
import { VideoSocket } from "./video_socket.js";
import { WebCodecsPlayer } from "./webcodecs_player.js";

const STALL_MS = 3_000; // live but no frame for this long: "video lost"
const READOUT_EVERY_MS = 250;
const LINK_CHECK_EVERY_MS = 15_000; // a link's page asks whether the link still holds

const $ = (id) => document.getElementById(id);

function chooseMode(asked) {
  if (asked === "mse" && MsePlayer.supported()) return "mse";
  if (asked === "webcodecs" && WebCodecsPlayer.supported()) return "webcodecs";
  return WebCodecsPlayer.supported() ? "webcodecs" : "mse";
}

const BANNER_TEXT = {
  connecting: "Connecting…",
  live: "LIVE",
  waiting: "Waiting for video…",
  lost: "Video lost",
  reconnecting: "Reconnecting…",
  error: "Error",
};

function setBanner(stats, state, detail = "") {
  stats.state = state;
  const banner = $("banner");
  banner.dataset.state = state;
  banner.textContent = detail ? `${BANNER_TEXT[state]} ${detail}` : BANNER_TEXT[state];
}

function showTelemetry(msg) {
  $("alt").textContent = msg.alt_rel_m === null ? DASH : `${metres(msg.alt_rel_m)} rel`;
  $("speed").textContent = speed(msg.ground_speed_mps);
  $("battery").textContent = percent(msg.battery_pct);
  $("phase").textContent = msg.link === "connected" ? msg.phase : `${msg.phase} (${msg.link})`;
}

function callText(call) {
  if (!call) return "No call";
  const where = call.address || (Number.isFinite(call.lat) && Number.isFinite(call.lon)
    ? `${call.lat.toFixed(5)}, ${call.lon.toFixed(5)}` : "location unknown");
  return `P${call.priority} ${call.nature} — ${where}`;
}

/** The call and the map follow the flight the drone flies; refreshed when it changes. */
class Scene {
  constructor(access, miniMap) {
    this.access = access;
    this.miniMap = miniMap;
    this.flightShown = undefined;
    this.airspaceShown = false;
  }

  show(view) {
    this.flightShown = view.flight_id ?? null;
    $("incident").textContent = callText(view.call);
    if (!this.airspaceShown && view.airspace) {
      this.miniMap.setAirspace(view.airspace);
      this.airspaceShown = true;
    }
    const { call } = view;
    this.miniMap.setScene(call && Number.isFinite(call.lat) ? { lat_deg: call.lat, lon_deg: call.lon } : null);
  }

  async follow(flightId) {
    if ((flightId ?? null) === this.flightShown) return;
    this.flightShown = flightId ?? null;
    try {
      this.show(await this.access.current(flightId));
    } catch (error) {
      if (error instanceof AccessError && error.refused) throw error;
      $("incident").textContent = `Call unavailable (${error.message})`;
    }
  }
}

/** A link's end: the page says so plainly and keeps nothing open. */
function showExpired(stats, sockets, detail) {
  for (const socket of sockets) socket.stop();
  stats.state = "expired";
  stats.videoOpen = false;
  document.body.dataset.link = "expired";
  $("expired-detail").textContent = detail;
  $("expired").hidden = false;
  setBanner(stats, "error", "— link expired");
}

let signingIn = null; // the sign-in the page is waiting for, if any (asked once at a time)

/** Resolves once the person signs in on the page's form (the session cookie is set). */
function signedIn() {
  if (signingIn) return signingIn;
  loadNotice();
  showSignIn(null);
  const form = $("signin-form");
  signingIn = new Promise((resolve) => {
    const submitted = async (event) => {
      event.preventDefault();
      if (!(await signInAccount())) return; // the form says why; try again
      form.removeEventListener("submit", submitted);
      $("signin").hidden = true;
      signingIn = null;
      resolve();
    };
    form.addEventListener("submit", submitted);
  });
  return signingIn;
}

/** The page's access; where the agency's policy opens links only for people signed in,
 *  the officer signs in first (on this page) and the link is opened then. */
async function accessAfterSignIn() {
  try {
    return await pageAccess();
  } catch (error) {
    if (!(error instanceof AccessError) || !error.signInRequired) throw error;
    await signedIn();
    return pageAccess();
  }
}

async function main() {
  const query = new URLSearchParams(window.location.search);
  const mode = chooseMode(query.get("mode"));
  const stats = new ViewerStats(mode);
  window.dfrViewer = stats;
  $("mode").textContent = mode === "mse" ? "MSE" : "WebCodecs";
  $("stage").dataset.mode = mode;

  let access;
  let firstView;
  try {
    [access, firstView] = await accessAfterSignIn();
  } catch (error) {
    if (error instanceof AccessError && error.refused && /link/i.test(error.detail)) {
      return showExpired(stats, [], error.detail);
    }
    const refused = error instanceof AccessError && error.refused;
    return setBanner(stats, "error", refused ? `— token refused (${error.detail}): sign in again` : `— ${error.message}`);
  }
  const droneId = firstView?.drone_id ?? access.droneId;
  document.body.dataset.access = access.kind;
  $("drone-id").textContent = droneId;
  document.title = `${droneId} — dfr live video`;

  const site = firstView ?? await access.current(null).catch(() => null);
  const miniMap = new MiniMap($("mini-map"), { tileUrl: site?.map?.tile_url ?? null, attribution: site?.map?.attribution ?? "" });
  window.dfrMiniMap = miniMap;
  const scene = new Scene(access, miniMap);
  if (firstView) scene.show(firstView);
  if (firstView?.label) $("link-label").textContent = `for ${firstView.label}`;
  if (firstView?.expires_at) $("link-expiry").textContent = `link ends ${new Date(firstView.expires_at).toLocaleTimeString()}`;

  const player = mode === "mse"
    ? new MsePlayer($("video"), stats) : new WebCodecsPlayer($("canvas"), stats);
  let lastFrames = 0;
  let lastFrameAt = performance.now();
  let openedOnce = false;
  const base = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}`;
  const format = mode === "mse" ? "fmp4" : "annexb";
  const credential = access.query ? `&${access.query}` : "";
  const sockets = [];
  const ended = (detail) => showExpired(stats, sockets, detail);

  /** Does the credential still hold? A link's end (or a session's) ends the page. */
  async function stillAllowed() {
    try {
      if (access.kind === "link") await access.view();
      else await access.check();
      return true;
    } catch (error) {
      if (!(error instanceof AccessError) || !error.refused) return true; // a passing fault
      if (error.signInRequired) {
        // the officer's session ended (signed out, locked): sign in again, then reopen
        for (const socket of sockets) socket.stop();
        signedIn().then(() => window.location.reload());
      } else if (access.kind === "link") ended(error.detail);
      else {
        for (const socket of sockets) socket.stop();
        setBanner(stats, "error", `— token refused (${error.detail}): sign in again`);
      }
      return false;
    }
  }

  const video = new VideoSocket(
    () => {
      stats.connecting();
      return `${base}/ws/video/${encodeURIComponent(droneId)}?format=${format}${credential}`;
    },
    {
      onOpen: () => {
        openedOnce = true;
        stats.videoOpen = true;
      },
      onText: (msg) => {
        if (msg.type === "codec") {
          try {
            player.codec(msg);
          } catch (error) {
            stats.errors.push(error.message);
            setBanner(stats, "error", `— ${error.message}`);
            video.stop();
          }
        } else if (msg.type === "state") {
          if (msg.state === "live") setBanner(stats, "live");
          else setBanner(stats, msg.state === "waiting" ? "waiting" : "lost");
        }
      },
      onBinary: (data) => {
        try {
          player.media(data);
        } catch (error) {
          stats.errors.push(error.message);
          video.restart(); // a fresh connection starts with codec + keyframe
        }
      },
      onClose: async ({ retryInMs }) => {
        stats.videoOpen = false;
        player.reset();
        setBanner(stats, "reconnecting", `in ${(retryInMs / 1000).toFixed(1)} s`);
        // closed by the service: the credential may have ended (a revoked link)
        if (!(await stillAllowed())) return;
        if (!openedOnce && access.kind !== "link") {
          try {
            await access.get(`/drones/${encodeURIComponent(droneId)}`);
          } catch (error) {
            if (error.status === 404) {
              video.stop();
              setBanner(stats, "error", `— no drone ${droneId}`);
            }
          }
        }
      },
    },
  );
  sockets.push(video);
  setBanner(stats, "connecting");
  video.start();

  setInterval(() => {
    if (stats.state === "expired") return;
    const now = performance.now();
    if (stats.framesShown !== lastFrames) {
      lastFrames = stats.framesShown;
      lastFrameAt = now;
      if (stats.state !== "live" && stats.state !== "error") setBanner(stats, "live");
    } else if (stats.state === "live" && now - lastFrameAt > STALL_MS) {
      setBanner(stats, "lost");
    }
    const latency = $("latency");
    latency.textContent = stats.latencyMs === null ? DASH : `${Math.round(stats.latencyMs)} ms`;
    latency.dataset.level = stats.latencyMs !== null && stats.latencyMs > 500 ? "high" : "ok";
  }, READOUT_EVERY_MS);

  const telemetry = new LiveSocket(
    () => `${base}/ws/telemetry?drone_id=${encodeURIComponent(droneId)}${credential}`,
    {
      onMessage: (msg) => {
        if (msg.type !== "position" || msg.drone_id !== droneId) return;
        showTelemetry(msg);
        miniMap.setDrone(Number.isFinite(msg.lat) && Number.isFinite(msg.lon)
          ? { lat_deg: msg.lat, lon_deg: msg.lon, heading_deg: msg.heading_deg } : null);
        scene.follow(msg.flight_id).catch((error) => ended(error.detail));
      },
      onState: (state) => {
        if (state === "refused" || state === "reconnecting") stillAllowed();
      },
    },
  );
  sockets.push(telemetry);
  telemetry.start();

  if (access.kind === "link") {
    setInterval(() => { if (stats.state !== "expired") stillAllowed(); }, LINK_CHECK_EVERY_MS);
    const untilEnd = new Date(firstView.expires_at).getTime() - Date.now();
    if (untilEnd > 0 && untilEnd < 2 ** 31) setTimeout(stillAllowed, untilEnd + 500);
  }
}

main().catch((error) => {
  console.error(error);
  const banner = $("banner");
  banner.dataset.state = "error";
  banner.textContent = `Error — ${error.message}`;
});
