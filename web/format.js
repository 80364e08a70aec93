// How numbers, times and states read on screen. Unknown values show as "—", never as 0.

export const DASH = "—";

export function known(value) {
  return value !== null && value !== undefined && Number.isFinite(value);
}

export function metres(value) {
  return known(value) ? `${Math.round(value)} m` : DASH;
}

export function speed(valueMps) {
  return known(valueMps) ? `${valueMps.toFixed(1)} m/s` : DASH;
}

export function percent(value) {
  return known(value) ? `${Math.round(value)}%` : DASH;
}

export function seconds(valueS) {
  if (!known(valueS)) return DASH;
  const s = Math.round(valueS);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
}

/** Flight time from hours: "h:mm" (with "h"), or minutes under an hour ("4.2 min"). */
export function flightTime(hours) {
  if (!known(hours)) return DASH;
  if (hours < 1) return `${(hours * 60).toFixed(1)} min`;
  const minutes = Math.round(hours * 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")}`;
}

/** Age of an event as m:ss or h:mm:ss. */
export function age(ms) {
  if (!known(ms) || ms < 0) return "0:00";
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** ok ≥ 40 %, low ≥ 20 %, critical below (the monitor decides what to do; this is colour). */
export function batteryClass(pct) {
  if (!known(pct)) return "";
  if (pct >= 40) return "batt-ok";
  if (pct >= 20) return "batt-low";
  return "batt-critical";
}

export function clockTime(date) {
  return date.toLocaleTimeString("en-GB", { hour12: false });
}

export function utcTime(date) {
  return date.toISOString().slice(11, 19) + "Z";
}

export function label(state) {
  return state ? String(state).replaceAll("_", " ") : DASH;
}

/** A distance as people read it: "850 m", "1.5 km". */
export function formatDistance(metres) {
  return metres >= 1000 ? `${(metres / 1000).toLocaleString("en-US")} km` : `${Math.round(metres)} m`;
}
