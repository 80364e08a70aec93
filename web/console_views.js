// How the console's state reads on screen: the airspace as map zones, the extent to fit,
// routes and tracks as coordinates, and each drone as the map and fleet draw it (placed
// or under its dock, stale, its labels). Pure functions of the state they are given.

import { STALE_AFTER_MS } from "./fleet.js";
import { age, label, metres, percent } from "./format.js";

export function zonesOf(collection) {
  if (!collection || !Array.isArray(collection.features)) return [];
  // drawn bottom to top: ceiling cells, then the boundary, then no-fly zones
  const layer = { ceiling: 0, boundary: 1, no_fly: 2 };
  const features = collection.features
    .map((feature, index) => [feature, index])
    .sort(([a], [b]) => (layer[a.properties?.kind] ?? 2) - (layer[b.properties?.kind] ?? 2));
  return features.map(([feature, index]) => {
    const p = feature.properties ?? {};
    const kind = p.kind ?? "no_fly";
    const bits = [];
    if (p.ceiling_m !== undefined && p.ceiling_m !== null) bits.push(`${kind === "ceiling" ? "" : `${label(kind)}, `}ceiling ${metres(p.ceiling_m)} AGL`);
    else bits.push(label(kind));
    if (p.buffer_m) bits.push(`buffer ${metres(p.buffer_m)}`);
    if (p.active === false) {
      const next = (p.active_windows ?? []).map((w) => Date.parse(w.start)).filter((t) => t > Date.now()).sort()[0];
      bits.push(next ? `inactive until ${new Date(next).toLocaleString("en-GB")}` : "inactive");
    }
    return {
      id: feature.id ?? p.id ?? `z${index}`,
      kind,
      name: p.name ?? `zone ${index + 1}`,
      active: p.active !== false,
      ceiling_m: p.ceiling_m ?? null,
      geometry: feature.geometry,
      label: `${p.name ?? `zone ${index + 1}`} (${bits.join(", ")})`,
    };
  });
}

/** Points the map fits: the docks and the boundary (or every zone), else the drones. */
export function extentPoints(state) {
  const points = state.docks.map((d) => [d.lat, d.lon]);
  for (const zone of state.zones) {
    if (zone.kind !== "boundary" && state.zones.some((z) => z.kind === "boundary")) continue;
    const coords = JSON.stringify(zone.geometry?.coordinates ?? []).match(/-?\d+(\.\d+)?(e-?\d+)?/g) ?? [];
    for (let i = 0; i + 1 < coords.length; i += 2) points.push([Number(coords[i + 1]), Number(coords[i])]);
  }
  if (points.length === 0) {
    for (const d of state.drones.values()) if (d.lat !== null && d.lon !== null) points.push([d.lat, d.lon]);
  }
  return points;
}

export function lineCoords(value) {
  if (!value) return [];
  const geometry = value.type === "Feature" ? value.geometry : value;
  if (geometry?.type === "LineString") return geometry.coordinates.map(([lon, lat]) => [lon, lat]);
  if (Array.isArray(value)) return value;
  return [];
}

/** How a drone reads on the map and in the fleet: placed or under its dock, stale, labels. */
export function droneView(state, drone, now) {
  const silentMs = now - (drone.heardAt ?? 0);
  const hasPosition = drone.lat !== null && drone.lat !== undefined && drone.lon !== null && drone.lon !== undefined;
  const noData = !hasPosition && drone.link !== "up";
  const stale = noData || silentMs > STALE_AFTER_MS || drone.link === "lost";
  let lat = drone.lat;
  let lon = drone.lon;
  if (!hasPosition) {
    const dock = state.docks.find((d) => d.id === drone.dock_id);
    lat = dock ? dock.lat : null;
    lon = dock ? dock.lon : null;
  }
  const dockSlot = Math.max(0, state.docks.find((d) => d.id === drone.dock_id)?.drones.indexOf(drone.id) ?? 0);
  const staleText = noData ? "no data" : `stale ${age(silentMs)}`;
  const status = drone.link === "lost" ? "LINK LOST" : stale ? staleText : `${metres(drone.alt_rel_m)} rel`;
  return {
    ...drone,
    lat,
    lon,
    placed: hasPosition,
    dockSlot,
    stale,
    staleText,
    airborne: drone.landed === "in_air" || drone.landed === "taking_off" || drone.landed === "landing",
    label1: drone.id,
    label2: hasPosition ? `${status} · ${percent(drone.battery_pct)}` : "no position",
    hover: `${drone.id}: link ${label(drone.link)}, ${label(drone.phase)}, ${label(drone.mode)}, alt ${metres(drone.alt_rel_m)} rel / ${metres(drone.alt_amsl_m)} AMSL, battery ${percent(drone.battery_pct)}${stale ? `, ${staleText}` : ""}`,
  };
}
