// The site map on Leaflet: airspace zones, docks, drones (heading arrows), incidents,
// planned routes and flown tracks, scale bar. With no tile server configured the map is
// drawn on a plain dark background and works offline. Pan by drag or arrow keys, zoom by
// wheel or +/-; 0 fits the site; "Go here / Orbit here" picks a point by click or Enter.

import { BASE_OPTIONS, L, addBasemap } from "./map_base.js";
import { LineLayer, ZoneLayer, dockLayer, droneLayer, incidentLayer } from "./map_layers.js";
import { ScaleBar } from "./map_scale.js";

const KEY_PAN_PX = 60;
const MIN_FIT_SPAN_M = 2000; // a one-dock site still shows its surroundings
const FIT_MARGIN = 0.06; // of the view, each side

export class SiteMap {
  /**
   * @param {HTMLElement} element the map's container (focusable, sized by CSS)
   * @param {{onSelect: (kind: string, id: string) => void, onHover: (text: string) => void}} handlers
   */
  constructor(element, { onSelect, onHover }) {
    this.element = element;
    this.onSelect = onSelect;
    this.onHover = onHover;
    this.model = null;
    this.pick = null; // {kind, resolve} while the pilot picks a point for a command
    this.fitBounds = null;
    this.frame = 0;
    this.userMoved = false; // until the user pans or zooms, a resize refits the site

    // no zoom animation: a fit right after a zoom must not be undone by the animation's end
    this.map = L.map(element, { ...BASE_OPTIONS, keyboard: false, zoomAnimation: false });
    this.map.setView([0, 0], BASE_OPTIONS.minZoom);
    for (const [pane, zIndex] of [["docks", 610], ["incidents", 620], ["drones", 630]]) {
      this.map.createPane(pane).style.zIndex = String(zIndex);
    }
    this.zones = new ZoneLayer(this.map);
    this.lines = new LineLayer(this.map);
    this.docks = dockLayer(this.map, "docks");
    this.incidents = incidentLayer(this.map, "incidents", onSelect);
    this.drones = droneLayer(this.map, "drones", onSelect);
    new ScaleBar().addTo(this.map);
    this.listen();
    new ResizeObserver(() => {
      this.map.invalidateSize({ pan: false });
      if (!this.userMoved) this.fit();
    }).observe(element);
  }

  /** The site's tile server from GET /site (`map: {tile_url, attribution}`); null: none. */
  setBasemap(siteMap) {
    if (this.basemap || !siteMap?.tile_url) return;
    this.basemap = addBasemap(this.map, { tileUrl: siteMap.tile_url, attribution: siteMap.attribution });
  }

  // -- view ----------------------------------------------------------------------------

  /** Sets the extent to fit: [[lat, lon], ...] of docks and airspace. */
  setExtent(points) {
    if (points.length === 0) return;
    const bounds = L.latLngBounds(points);
    bounds.extend(bounds.getCenter().toBounds(MIN_FIT_SPAN_M));
    this.fitBounds = bounds;
    this.fit();
  }

  fit() {
    this.userMoved = false;
    const size = this.map.getSize();
    if (!this.fitBounds || size.x === 0 || size.y === 0) return; // hidden: refit when shown
    this.map.fitBounds(this.fitBounds, { padding: [size.x * FIT_MARGIN, size.y * FIT_MARGIN], animate: false });
  }

  zoomBy(factor) {
    this.userMoved = true;
    this.map.setZoom(this.map.getZoom() + Math.log2(factor));
  }

  panBy(dxPx, dyPx) {
    this.userMoved = true;
    this.map.panBy([dxPx, dyPx], { animate: false });
  }

  // -- picking a point (orbit here / go here) -------------------------------------------

  /** Resolves with [lat, lon] of the next click on the map, or null if cancelled. */
  pickPoint(kind) {
    this.cancelPick();
    this.element.classList.add("picking"); // map.css: markers let the click through
    this.element.focus();
    return new Promise((resolve) => {
      this.pick = { kind, resolve };
    });
  }

  cancelPick() {
    if (!this.pick) return;
    const { resolve } = this.pick;
    this.pick = null;
    this.element.classList.remove("picking");
    resolve(null);
  }

  markPoint(latLon) {
    this.lines.markPoint(latLon);
  }

  resolvePick(latLng) {
    const { resolve } = this.pick;
    const latLon = [latLng.lat, latLng.lng];
    this.pick = null;
    this.element.classList.remove("picking");
    this.markPoint(latLon);
    resolve(latLon);
  }

  /** Keyboard picking: Enter takes the centre of the view. */
  pickCentre() {
    if (this.pick) this.resolvePick(this.map.getCenter());
  }

  // -- input ---------------------------------------------------------------------------

  listen() {
    const element = this.element;
    // Leaflet tells a click from a drag; a click on a marker selects it (map_layers.js)
    this.map.on("click", (event) => {
      if (this.pick) this.resolvePick(event.latlng);
    });
    this.map.on("dragstart", () => {
      this.userMoved = true;
    });
    element.addEventListener("wheel", () => {
      this.userMoved = true;
    });
    element.addEventListener("keydown", (event) => {
      const actions = {
        ArrowLeft: () => this.panBy(-KEY_PAN_PX, 0),
        ArrowRight: () => this.panBy(KEY_PAN_PX, 0),
        ArrowUp: () => this.panBy(0, -KEY_PAN_PX),
        ArrowDown: () => this.panBy(0, KEY_PAN_PX),
        "+": () => this.zoomBy(1.5),
        "=": () => this.zoomBy(1.5),
        "-": () => this.zoomBy(1 / 1.5),
        0: () => this.fit(),
        Escape: () => this.cancelPick(),
        Enter: () => this.pickCentre(),
      };
      const action = event.target === element ? actions[event.key] : null;
      if (action) {
        event.preventDefault();
        action();
      }
    });
    element.addEventListener("pointerover", (event) => {
      const target = event.target.closest?.("[data-hover]");
      this.onHover(target ? target.dataset.hover : "");
    });
    element.addEventListener("pointerleave", () => this.onHover(""));
  }

  // -- drawing -------------------------------------------------------------------------

  /** model: {zones, docks, drones, incidents, routes, tracks, selected} (see console.js). */
  update(model) {
    this.model = model;
    this.requestRender();
  }

  requestRender() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** Renders now (tests and the first paint do not wait for an animation frame). */
  render() {
    if (!this.model) return;
    const m = this.model;
    const zonesRedrawn = this.zones.render(m.zones);
    this.lines.render(m.routes, m.tracks);
    if (zonesRedrawn) this.lines.bringToFront();
    this.docks.render(m.docks);
    this.incidents.render(m.incidents, m.selected);
    this.drones.render(m.drones, m.selected);
  }
}
