// A small map for the officer's viewer: the site's airspace, one drone (heading arrow) and
// the scene, kept in view together. It follows them until the person pans or zooms; the
// "Fit" button fits them again and resumes following. Links its own stylesheets, so a page
// needs only `new MiniMap(element, {tileUrl, attribution})` on an element sized by CSS.
//
//   import { MiniMap } from "/mini_map.js";
//   const mini = new MiniMap(document.getElementById("mini-map"), { tileUrl: site.map.tile_url, attribution: site.map.attribution });
//   mini.setAirspace(await api.get("/airspace"));
//   mini.setDrone({ lat_deg, lon_deg, heading_deg });   // or null: no position
//   mini.setScene({ lat_deg, lon_deg });                 // or null: no scene

import { BASE_OPTIONS, L, addBasemap, droneGlyph, elementMarker, pointArrow, shapeOf, zoneOptions } from "./map_base.js";

const STYLESHEETS = ["/vendor/leaflet/dist/leaflet.css", new URL("./map.css", import.meta.url).href];
const ONE_POINT_ZOOM = 16; // a lone drone or scene: a few blocks around it
const FIT_PADDING_PX = 28;
const REFIT_ZOOM_STEP = 1; // refit when the points leave the view or it is this far off

function ensureStylesheets() {
  const present = new Set([...document.querySelectorAll('link[rel="stylesheet"]')].map((link) => link.href));
  for (const href of STYLESHEETS) {
    const absolute = new URL(href, document.baseURI).href;
    if (present.has(absolute)) continue;
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = absolute;
    document.head.appendChild(link);
  }
}

/** The "Fit" button: fit the drone and the scene again and keep following them. */
const FitButton = L.Control.extend({
  options: { position: "topright" },
  onAdd() {
    const button = L.DomUtil.create("button", "mini-map-fit");
    button.type = "button";
    button.title = "Fit the drone and the scene";
    button.setAttribute("aria-label", button.title);
    button.textContent = "Fit"; // a word: phones lack a glyph for ⌖
    L.DomEvent.disableClickPropagation(button);
    L.DomEvent.on(button, "click", () => this.options.onFit());
    return button;
  },
});

export class MiniMap {
  /**
   * @param {HTMLElement} element sized by the page's CSS
   * @param {{tileUrl?: string|null, attribution?: string}} basemap GET /site's `map` (tile_url, attribution)
   */
  constructor(element, { tileUrl = null, attribution = "" } = {}) {
    ensureStylesheets();
    element.classList.add("mini-map");
    this.element = element;
    this.map = L.map(element, { ...BASE_OPTIONS, keyboard: false });
    this.map.setView([0, 0], BASE_OPTIONS.minZoom);
    addBasemap(this.map, { tileUrl, attribution });
    this.zones = L.layerGroup().addTo(this.map);
    this.siteBounds = null;
    this.drone = null; // {marker, element}
    this.scene = null; // marker
    this.following = true;
    this.fitting = false; // our own view changes do not count as the person's
    new FitButton({ onFit: () => this.fit() }).addTo(this.map);
    this.map.on("dragstart", () => {
      this.following = false;
    });
    this.map.on("zoomstart", () => {
      if (!this.fitting) this.following = false;
    });
    new ResizeObserver(() => {
      this.map.invalidateSize({ pan: false });
      if (this.following) this.fit();
    }).observe(element);
  }

  /** The site's airspace: GET /airspace's FeatureCollection (or null to clear). */
  setAirspace(collection) {
    this.zones.clearLayers();
    let bounds = null;
    for (const feature of collection?.features ?? []) {
      const p = feature.properties ?? {};
      const zone = { kind: p.kind ?? "no_fly", active: p.active !== false, ceiling_m: p.ceiling_m ?? null };
      const shape = shapeOf(feature.geometry, zoneOptions(zone, { interactive: false }));
      if (!shape) continue;
      this.zones.addLayer(shape);
      if (zone.kind === "boundary") bounds = bounds ? bounds.extend(shape.getBounds()) : shape.getBounds();
    }
    // ceilings first, no-fly zones on top
    for (const kind of ["boundary", "no_fly"]) {
      this.zones.eachLayer((layer) => {
        if (layer.options.className.includes(`zone-${kind}`)) layer.bringToFront();
      });
    }
    this.siteBounds = bounds;
    if (this.following) this.fit();
  }

  /** The drone's position and heading, or null when it has none. */
  setDrone(position) {
    if (!position || !Number.isFinite(position.lat_deg) || !Number.isFinite(position.lon_deg)) {
      this.drone?.marker.remove();
      this.drone = null;
    } else {
      const at = [position.lat_deg, position.lon_deg];
      if (!this.drone) {
        const element = document.createElement("div");
        element.className = "drone airborne";
        element.appendChild(droneGlyph());
        this.drone = { marker: elementMarker(at, element, { interactive: false }).addTo(this.map), element };
      } else {
        this.drone.marker.setLatLng(at);
      }
      pointArrow(this.drone.element.firstChild, position.heading_deg);
    }
    if (this.following) this.fit({ onlyIfNeeded: true });
  }

  /** The incident's location, or null. */
  setScene(position) {
    if (!position || !Number.isFinite(position.lat_deg) || !Number.isFinite(position.lon_deg)) {
      this.scene?.remove();
      this.scene = null;
    } else if (this.scene) {
      this.scene.setLatLng([position.lat_deg, position.lon_deg]);
    } else {
      const element = document.createElement("div");
      element.className = "scene";
      element.title = "scene";
      element.appendChild(Object.assign(document.createElement("span"), { className: "dot" }));
      this.scene = elementMarker([position.lat_deg, position.lon_deg], element, { interactive: false }).addTo(this.map);
    }
    if (this.following) this.fit({ onlyIfNeeded: true });
  }

  /**
   * Brings the drone and the scene into view (or the site, with neither) and resumes
   * following. onlyIfNeeded: leave the view alone while both stay well inside it at about
   * the right zoom, so a 10 Hz position stream does not re-zoom the map at every message.
   */
  fit({ onlyIfNeeded = false } = {}) {
    this.following = true;
    const size = this.map.getSize();
    if (size.x === 0 || size.y === 0) return; // hidden: fitted when shown
    const points = [this.drone?.marker.getLatLng(), this.scene?.getLatLng()].filter(Boolean);
    const padding = L.point(FIT_PADDING_PX, FIT_PADDING_PX);
    this.fitting = true;
    try {
      if (points.length === 2) {
        const bounds = L.latLngBounds(points);
        const zoom = this.map.getBoundsZoom(bounds, false, padding.multiplyBy(2));
        const inView = this.map.getBounds().pad(-0.1).contains(bounds);
        if (onlyIfNeeded && inView && Math.abs(zoom - this.map.getZoom()) < REFIT_ZOOM_STEP) return;
        this.map.fitBounds(bounds, { padding: [FIT_PADDING_PX, FIT_PADDING_PX], maxZoom: ONE_POINT_ZOOM + 1, animate: false });
      } else if (points.length === 1) {
        if (onlyIfNeeded && this.map.getBounds().pad(-0.2).contains(points[0])) return;
        this.map.setView(points[0], Math.max(this.map.getZoom(), ONE_POINT_ZOOM), { animate: false });
      } else if (this.siteBounds && !onlyIfNeeded) {
        this.map.fitBounds(this.siteBounds, { padding: [FIT_PADDING_PX, FIT_PADDING_PX], animate: false });
      }
    } finally {
      this.fitting = false;
    }
  }
}
