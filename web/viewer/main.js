// The officer's viewer: one drone's live video full width, its telemetry and incident,
// a live-latency readout from the frame on screen, state banners and reconnects.
// URL: /view.html?drone=fw1[&mode=mse|webcodecs]#token=… (the token moves to sessionStorage).

import { LiveSocket } from "../socket.js";
import { DASH, metres, percent, speed } from "../format.js";
import { MsePlayer } from "./mse_player.js";
import { ViewerStats } from "./stats.js";
import { VideoSocket } from "./video_socket.js";
import { WebCodecsPlayer } from "./webcodecs_player.js";

const TOKEN_KEY = "dfr.token"; // shared with the console (same tab)
const STALL_MS = 3_000; // live but no frame for this long: "video lost"
const READOUT_EVERY_MS = 250;

const $ = (id) => document.getElementById(id);

function takeToken() {
  const params = new URLSearchParams(window.location.hash.slice(1));
  const fromFragment = params.get("token");
  if (fromFragment) {
    sessionStorage.setItem(TOKEN_KEY, fromFragment);
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

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

async function getJson(path, token) {
  const response = await fetch(`/api/v1${path}`, { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) {
    const error = new Error(`${path}: HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return response.json();
}

function showTelemetry(msg) {
  $("alt").textContent = msg.alt_rel_m === null ? DASH : `${metres(msg.alt_rel_m)} rel`;
  $("speed").textContent = speed(msg.ground_speed_mps);
  $("battery").textContent = percent(msg.battery_pct);
  $("phase").textContent = msg.link === "connected" ? msg.phase : `${msg.phase} (${msg.link})`;
}

function incidentText(incident) {
  const { lat, lon } = incident.location ?? {};
  const where = incident.address || (Number.isFinite(lat) && Number.isFinite(lon)
    ? `${lat.toFixed(5)}, ${lon.toFixed(5)}` : "location unknown");
  return `P${incident.priority} ${incident.nature} — ${where}`;
}

function watchIncident(droneId, token) {
  let flightShown;
  return async (msg) => {
    if (msg.flight_id === flightShown) return;
    flightShown = msg.flight_id;
    if (!msg.flight_id) {
      $("incident").textContent = "No incident";
      return;
    }
    try {
      const flight = await getJson(`/flights/${encodeURIComponent(msg.flight_id)}`, token);
      if (!flight.incident_id) {
        $("incident").textContent = `Flight ${flight.id}`;
        return;
      }
      const incident = await getJson(`/incidents/${encodeURIComponent(flight.incident_id)}`, token);
      if (flightShown === msg.flight_id) $("incident").textContent = incidentText(incident);
    } catch (error) {
      $("incident").textContent = `Incident unavailable (${error.message})`;
    }
  };
}

async function main() {
  const query = new URLSearchParams(window.location.search);
  const droneId = query.get("drone");
  const mode = chooseMode(query.get("mode"));
  const stats = new ViewerStats(mode);
  window.dfrViewer = stats;
  $("mode").textContent = mode === "mse" ? "MSE" : "WebCodecs";
  $("stage").dataset.mode = mode;
  const token = takeToken();
  if (!droneId) return setBanner(stats, "error", "— no drone in the address (?drone=ID)");
  $("drone-id").textContent = droneId;
  document.title = `${droneId} — dfr live video`;
  if (!token) return setBanner(stats, "error", "— no token: open the link from the console");
  try {
    await getJson("/me", token);
  } catch (error) {
    const refused = error.status === 401 || error.status === 403;
    return setBanner(stats, "error", refused ? "— token refused, sign in again" : `— ${error.message}`);
  }

  const player = mode === "mse"
    ? new MsePlayer($("video"), stats) : new WebCodecsPlayer($("canvas"), stats);
  let lastFrames = 0;
  let lastFrameAt = performance.now();
  let openedOnce = false;
  const base = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}`;
  const format = mode === "mse" ? "fmp4" : "annexb";
  const video = new VideoSocket(
    () => {
      stats.connecting();
      return `${base}/ws/video/${encodeURIComponent(droneId)}?format=${format}&token=${encodeURIComponent(token)}`;
    },
    {
      onOpen: () => { openedOnce = true; },
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
        player.reset();
        setBanner(stats, "reconnecting", `in ${(retryInMs / 1000).toFixed(1)} s`);
        if (!openedOnce) {
          // never accepted: the token may have been revoked or the drone has no video
          try {
            await getJson(`/drones/${encodeURIComponent(droneId)}`, token);
          } catch (error) {
            if (error.status === 401 || error.status === 403 || error.status === 404) {
              video.stop();
              setBanner(stats, "error", error.status === 404
                ? `— no drone ${droneId}` : "— token refused, sign in again");
            }
          }
        }
      },
    },
  );
  setBanner(stats, "connecting");
  video.start();

  setInterval(() => {
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

  const onTelemetryIncident = watchIncident(droneId, token);
  const telemetry = new LiveSocket(
    () => `${base}/ws/telemetry?drone_id=${encodeURIComponent(droneId)}&token=${encodeURIComponent(token)}`,
    {
      onMessage: (msg) => {
        if (msg.type !== "position" || msg.drone_id !== droneId) return;
        showTelemetry(msg);
        onTelemetryIncident(msg);
      },
      onState: () => {},
    },
  );
  telemetry.start();
}

main().catch((error) => {
  console.error(error);
  const banner = $("banner");
  banner.dataset.state = "error";
  banner.textContent = `Error — ${error.message}`;
});
