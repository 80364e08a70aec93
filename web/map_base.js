// What the console's site map and the viewer's mini map share: Leaflet itself (served by
// this service from node_modules at /vendor, never from a CDN), the background (a tile
// layer only when the site configures one, else the plain dark background: offline), GeoJSON
// geometry to Leaflet shapes, and the drone arrow.

import * as L from "/vendor/leaflet/dist/leaflet-src.esm.js";

export { L };

const SVG_NS = "http://www.w3.org/2000/svg";
const TILE_MAX_NATIVE_ZOOM = 18; // what XYZ servers commonly have; deeper zooms scale these

/** Options both maps start from: no Leaflet zoom buttons (the console has its own). */
export const BASE_OPTIONS = {
  zoomControl: false,
  attributionControl: false,
  zoomSnap: 0.25,
  zoomDelta: 0.5,
  minZoom: 3,
  maxZoom: 20,
};

/**
 * Adds the site's tile layer and its credit to `map` when `tileUrl` is set; without one
 * nothing is added and the map stays on its CSS background. Returns the layer or null.
 * @param {L.Map} map
 * @param {{tileUrl?: string|null, attribution?: string}} basemap
 */
export function addBasemap(map, { tileUrl = null, attribution = "" } = {}) {
  if (!tileUrl) return null;
  // the credit is operator configuration (DFR_MAP_TILE_ATTRIBUTION): HTML, as tile servers word it
  L.control.attribution({ prefix: false }).addTo(map);
  const layer = L.tileLayer(tileUrl, {
    attribution,
    maxNativeZoom: TILE_MAX_NATIVE_ZOOM,
    maxZoom: BASE_OPTIONS.maxZoom,
  });
  layer.addTo(map);
  map.getContainer().classList.add("with-tiles");
  return layer;
}

/**
 * A Leaflet shape for a GeoJSON geometry ([lon, lat] order): polygons (with holes) and
 * lines; null for geometry a map cannot draw as an area or a line (points).
 */
export function shapeOf(geometry, options) {
  const toLatLngs = L.GeoJSON.coordsToLatLngs;
  switch (geometry?.type) {
    case "Polygon":
      return L.polygon(toLatLngs(geometry.coordinates, 1), options);
    case "MultiPolygon":
      return L.polygon(toLatLngs(geometry.coordinates, 2), options);
    case "LineString":
      return L.polyline(toLatLngs(geometry.coordinates, 0), { ...options, fill: false });
    case "MultiLineString":
      return L.polyline(toLatLngs(geometry.coordinates, 1), { ...options, fill: false });
    default:
      return null;
  }
}

/** Options for a zone's path: classes select map.css's style, ceilings get a tint. */
export function zoneOptions(zone, { interactive = true } = {}) {
  const options = {
    className: `zone zone-${zone.kind}${zone.active === false ? " inactive" : ""}`,
    fill: zone.kind !== "boundary",
    stroke: zone.kind !== "ceiling",
    weight: 1.5,
    interactive,
  };
  if (zone.kind === "ceiling" && Number.isFinite(zone.ceiling_m)) {
    // the lower the ceiling, the stronger the tint (0 m AGL ≈ no-fly)
    options.fillOpacity = Math.max(0.05, 0.24 - zone.ceiling_m / 500);
  }
  return options;
}

/** [[lon, lat], ...] (GeoJSON order) as Leaflet's [[lat, lon], ...]. */
export function latLngsOfLine(coords) {
  return coords.map(([lon, lat]) => [lat, lon]);
}

export function svgEl(tag, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (parent) parent.appendChild(node);
  return node;
}

/**
 * A drone glyph: a 32 px SVG with a selection halo and an arrow pointing north; turn it
 * with `pointArrow`. Styled by map.css (`.drone …`).
 */
export function droneGlyph() {
  const svg = svgEl("svg", { class: "glyph", viewBox: "-16 -16 32 32", width: 32, height: 32, "aria-hidden": "true" });
  svgEl("circle", { class: "halo", r: 14 }, svg);
  svgEl("path", { class: "arrow", d: "M0,-12 L8,9 L0,4 L-8,9 Z" }, svg);
  return svg;
}

/** Turns a glyph from droneGlyph to a heading (degrees clockwise from north; unknown: north). */
export function pointArrow(glyph, headingDeg) {
  const deg = Number.isFinite(headingDeg) ? headingDeg : 0;
  glyph.querySelector(".arrow").setAttribute("transform", `rotate(${deg.toFixed(0)})`);
}

/**
 * A marker whose icon is `element` (an element this code keeps and updates in place),
 * placed with its top-left corner on the point: map.css centres the element's glyph.
 */
export function elementMarker(latLng, element, options = {}) {
  const icon = L.divIcon({ html: element, className: "map-marker", iconSize: null });
  return L.marker(latLng, { icon, keyboard: false, ...options });
}
