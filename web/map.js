// The site map, drawn in SVG in a local metric projection (no tiles: the console works
// offline). Airspace zones, docks, drones (heading arrows), incidents, planned routes and
// flown tracks. Pan by drag or arrow keys, zoom by wheel or +/-; 0 fits the site.

import { LocalProjection, formatDistance, roundLengthM } from "./projection.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const DRAG_THRESHOLD_PX = 4;
const MIN_SCALE = 1e-4; // px per metre
const MAX_SCALE = 20;
const KEY_PAN_PX = 60;

function el(tag, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (parent) parent.appendChild(node);
  return node;
}

/** Keeps one element per key in a layer: creates new ones, removes those not seen. */
class KeyedLayer {
  constructor(parent, className) {
    this.group = el("g", { class: className }, parent);
    this.nodes = new Map();
    this.seen = new Set();
  }

  begin() {
    this.seen.clear();
  }

  get(key, create) {
    this.seen.add(key);
    let node = this.nodes.get(key);
    if (!node) {
      node = create(this.group);
      this.nodes.set(key, node);
    }
    return node;
  }

  end() {
    for (const [key, node] of this.nodes) {
      if (!this.seen.has(key)) {
        node.remove();
        this.nodes.delete(key);
      }
    }
  }
}

function ringsOf(geometry) {
  if (!geometry) return [];
  switch (geometry.type) {
    case "Polygon":
      return geometry.coordinates;
    case "MultiPolygon":
      return geometry.coordinates.flat();
    case "LineString":
      return [geometry.coordinates];
    case "MultiLineString":
      return geometry.coordinates;
    default:
      return [];
  }
}

export class SiteMap {
  /**
   * @param {SVGSVGElement} svg
   * @param {{onSelect: (kind: string, id: string) => void, onHover: (text: string) => void}} handlers
   */
  constructor(svg, { onSelect, onHover }) {
    this.svg = svg;
    this.onSelect = onSelect;
    this.onHover = onHover;
    this.projection = null;
    this.centre = [0, 0]; // metres east, north at the middle of the view
    this.scale = 0.05; // px per metre
    this.model = null;
    this.pick = null; // {kind, resolve} while the pilot picks a point for a command
    this.pickMark = null;
    this.fitBounds = null;
    this.frame = 0;

    this.zones = new KeyedLayer(svg, "layer-zones");
    this.lines = new KeyedLayer(svg, "layer-lines");
    this.docks = new KeyedLayer(svg, "layer-docks");
    this.incidents = new KeyedLayer(svg, "layer-incidents");
    this.drones = new KeyedLayer(svg, "layer-drones");
    this.overlay = el("g", { class: "layer-overlay" }, svg);
    this.buildOverlay();
    this.listen();
    this.userMoved = false; // until the user pans or zooms, a resize refits the site
    new ResizeObserver(() => (this.userMoved ? this.requestRender() : this.fit())).observe(svg);
  }

  // -- view ----------------------------------------------------------------------------

  size() {
    const rect = this.svg.getBoundingClientRect();
    return [Math.max(rect.width, 1), Math.max(rect.height, 1)];
  }

  toScreen(latDeg, lonDeg) {
    const [east, north] = this.projection.toMetres(latDeg, lonDeg);
    const [w, h] = this.size();
    return [w / 2 + (east - this.centre[0]) * this.scale, h / 2 - (north - this.centre[1]) * this.scale];
  }

  toLatLon(sx, sy) {
    const [w, h] = this.size();
    const east = this.centre[0] + (sx - w / 2) / this.scale;
    const north = this.centre[1] - (sy - h / 2) / this.scale;
    return this.projection.toLatLon(east, north);
  }

  /** Sets the projection and the extent to fit: [[lat, lon], ...] of docks and airspace. */
  setExtent(points) {
    if (points.length === 0) return;
    const lats = points.map((p) => p[0]);
    const lons = points.map((p) => p[1]);
    const lat0 = (Math.min(...lats) + Math.max(...lats)) / 2;
    const lon0 = (Math.min(...lons) + Math.max(...lons)) / 2;
    if (!this.projection) this.projection = new LocalProjection(lat0, lon0);
    const metres = points.map(([lat, lon]) => this.projection.toMetres(lat, lon));
    const xs = metres.map((m) => m[0]);
    const ys = metres.map((m) => m[1]);
    this.fitBounds = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
    this.fit();
  }

  fit() {
    this.userMoved = false;
    if (!this.fitBounds) return;
    const [x0, y0, x1, y1] = this.fitBounds;
    const [w, h] = this.size();
    const spanX = Math.max(x1 - x0, 2000);
    const spanY = Math.max(y1 - y0, 2000);
    this.centre = [(x0 + x1) / 2, (y0 + y1) / 2];
    this.scale = Math.min((w * 0.88) / spanX, (h * 0.88) / spanY);
    this.requestRender();
  }

  zoomBy(factor, sx = null, sy = null) {
    const [w, h] = this.size();
    const px = sx ?? w / 2;
    const py = sy ?? h / 2;
    this.userMoved = true;
    const newScale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, this.scale * factor));
    // keep the point under the cursor where it is
    const east = this.centre[0] + (px - w / 2) / this.scale;
    const north = this.centre[1] - (py - h / 2) / this.scale;
    this.scale = newScale;
    this.centre = [east - (px - w / 2) / newScale, north + (py - h / 2) / newScale];
    this.requestRender();
  }

  panBy(dxPx, dyPx) {
    this.userMoved = true;
    this.centre = [this.centre[0] - dxPx / this.scale, this.centre[1] + dyPx / this.scale];
    this.requestRender();
  }

  // -- picking a point (orbit here / go here) -------------------------------------------

  /** Resolves with [lat, lon] of the next click on the map, or null if cancelled. */
  pickPoint(kind) {
    this.cancelPick();
    this.svg.classList.add("picking");
    this.svg.focus();
    return new Promise((resolve) => {
      this.pick = { kind, resolve };
    });
  }

  cancelPick() {
    if (!this.pick) return;
    const { resolve } = this.pick;
    this.pick = null;
    this.svg.classList.remove("picking");
    resolve(null);
  }

  markPoint(latLon) {
    this.pickMark = latLon;
    this.requestRender();
  }

  // -- input ---------------------------------------------------------------------------

  listen() {
    const svg = this.svg;
    let down = null;
    svg.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      down = { x: event.clientX, y: event.clientY, lastX: event.clientX, lastY: event.clientY, dragging: false };
      svg.setPointerCapture(event.pointerId);
    });
    svg.addEventListener("pointermove", (event) => {
      if (!down) return;
      if (!down.dragging && Math.hypot(event.clientX - down.x, event.clientY - down.y) > DRAG_THRESHOLD_PX) {
        down.dragging = true;
        svg.classList.add("dragging");
      }
      if (down.dragging) {
        this.panBy(event.clientX - down.lastX, event.clientY - down.lastY);
        down.lastX = event.clientX;
        down.lastY = event.clientY;
      }
    });
    const finish = (event, cancelled) => {
      if (!down) return;
      const wasDrag = down.dragging;
      down = null;
      svg.classList.remove("dragging");
      if (cancelled || wasDrag) return;
      this.click(event);
    };
    svg.addEventListener("pointerup", (event) => finish(event, false));
    svg.addEventListener("pointercancel", (event) => finish(event, true));
    svg.addEventListener(
      "wheel",
      (event) => {
        event.preventDefault();
        const rect = svg.getBoundingClientRect();
        const factor = Math.pow(1.0015, -event.deltaY);
        this.zoomBy(factor, event.clientX - rect.left, event.clientY - rect.top);
      },
      { passive: false },
    );
    svg.addEventListener("keydown", (event) => {
      const actions = {
        ArrowLeft: () => this.panBy(KEY_PAN_PX, 0),
        ArrowRight: () => this.panBy(-KEY_PAN_PX, 0),
        ArrowUp: () => this.panBy(0, KEY_PAN_PX),
        ArrowDown: () => this.panBy(0, -KEY_PAN_PX),
        "+": () => this.zoomBy(1.5),
        "=": () => this.zoomBy(1.5),
        "-": () => this.zoomBy(1 / 1.5),
        0: () => this.fit(),
        Escape: () => this.cancelPick(),
        Enter: () => this.pickCentre(),
      };
      const action = actions[event.key];
      if (action) {
        event.preventDefault();
        action();
      }
    });
    svg.addEventListener("pointerover", (event) => {
      const zone = event.target.closest?.("[data-hover]");
      this.onHover(zone ? zone.dataset.hover : "");
    });
    svg.addEventListener("pointerleave", () => this.onHover(""));
  }

  /** Keyboard picking: Enter takes the centre of the view. */
  pickCentre() {
    if (!this.pick || !this.projection) return;
    const [w, h] = this.size();
    this.resolvePick(this.toLatLon(w / 2, h / 2));
  }

  resolvePick(latLon) {
    const { resolve } = this.pick;
    this.pick = null;
    this.svg.classList.remove("picking");
    this.markPoint(latLon);
    resolve(latLon);
  }

  click(event) {
    if (!this.projection) return;
    const rect = this.svg.getBoundingClientRect();
    if (this.pick) {
      this.resolvePick(this.toLatLon(event.clientX - rect.left, event.clientY - rect.top));
      return;
    }
    const target = event.target.closest?.("[data-select]");
    if (target) this.onSelect(target.dataset.select, target.dataset.id);
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
    if (!this.projection || !this.model) return;
    const m = this.model;
    this.renderZones(m.zones);
    this.renderLines(m.routes, m.tracks);
    this.renderDocks(m.docks);
    this.renderIncidents(m.incidents, m.selected);
    this.renderDrones(m.drones, m.selected);
    this.renderOverlay();
  }

  path(rings, close) {
    return rings
      .map((ring) => {
        const pts = ring.map(([lon, lat]) => this.toScreen(lat, lon).map((v) => v.toFixed(1)).join(","));
        return pts.length ? `M${pts.join("L")}${close ? "Z" : ""}` : "";
      })
      .join("");
  }

  viewKey() {
    const [w, h] = this.size();
    return `${this.centre[0]},${this.centre[1]},${this.scale},${w},${h}`;
  }

  renderZones(zones) {
    // ~1000 cells on a real site: redraw only when the zones or the view change
    const viewKey = this.viewKey();
    if (zones === this.drawnZones && viewKey === this.drawnZonesView) return;
    this.drawnZones = zones;
    this.drawnZonesView = viewKey;
    this.zones.begin();
    zones.forEach((zone, index) => {
      const key = zone.id ?? `zone-${index}`;
      const node = this.zones.get(key, (parent) => {
        const g = el("g", {}, parent);
        el("path", { "fill-rule": "evenodd" }, g);
        el("title", {}, g);
        return g;
      });
      const kind = zone.kind;
      const shape = node.firstChild;
      shape.setAttribute("class", `zone zone-${kind}${zone.active === false ? " inactive" : ""}`);
      if (kind === "ceiling" && Number.isFinite(zone.ceiling_m)) {
        // the lower the ceiling, the stronger the tint (0 m AGL ≈ no-fly)
        shape.style.fillOpacity = String(Math.max(0.05, 0.24 - zone.ceiling_m / 500).toFixed(2));
      }
      shape.setAttribute("d", this.path(ringsOf(zone.geometry), zone.geometry?.type?.includes("Polygon")));
      node.dataset.zoneKind = kind;
      node.dataset.zoneName = zone.name;
      node.dataset.hover = zone.label;
      node.lastChild.textContent = zone.label;
    });
    this.zones.end();
  }

  renderLines(routes, tracks) {
    this.lines.begin();
    const viewKey = this.viewKey();
    const draw = (kind, flightId, coords) => {
      const node = this.lines.get(`${kind}-${flightId}`, (parent) => el("path", { class: kind }, parent));
      // tracks grow by appending: redraw when they grew or the view moved
      const key = `${coords.length}|${coords[coords.length - 1]}|${viewKey}`;
      if (node.dataset.drawn !== key) {
        node.setAttribute("d", this.path([coords], false));
        node.dataset.drawn = key;
      }
      node.dataset.flightId = flightId;
    };
    for (const [flightId, coords] of routes) draw("route", flightId, coords);
    for (const [flightId, coords] of tracks) draw("track", flightId, coords);
    if (this.pickMark) {
      const node = this.lines.get("pick-mark", (parent) => el("circle", { class: "pick-mark", r: 10 }, parent));
      const [x, y] = this.toScreen(this.pickMark[0], this.pickMark[1]);
      node.setAttribute("cx", x.toFixed(1));
      node.setAttribute("cy", y.toFixed(1));
    }
    this.lines.end();
  }

  renderDocks(docks) {
    this.docks.begin();
    for (const dock of docks) {
      const node = this.docks.get(dock.id, (parent) => {
        const g = el("g", { class: "dock" }, parent);
        el("rect", { x: -7, y: -7, width: 14, height: 14, rx: 2 }, g);
        el("text", { x: -10, y: -10, "text-anchor": "end" }, g);
        el("title", {}, g);
        return g;
      });
      const [x, y] = this.toScreen(dock.lat, dock.lon);
      node.setAttribute("transform", `translate(${x.toFixed(1)},${y.toFixed(1)})`);
      node.dataset.dockId = dock.id;
      node.dataset.hover = `dock ${dock.id}: ${dock.name}`;
      node.querySelector("text").textContent = dock.id;
      node.querySelector("title").textContent = `${dock.name} — ground ${Math.round(dock.ground_alt_amsl_m)} m AMSL`;
    }
    this.docks.end();
  }

  renderIncidents(incidents, selected) {
    this.incidents.begin();
    for (const inc of incidents) {
      const node = this.incidents.get(inc.id, (parent) => {
        const g = el("g", {}, parent);
        el("circle", { r: 9 }, g);
        el("text", { class: "num", "text-anchor": "middle", y: 4 }, g);
        el("text", { class: "label", x: 13, y: 4 }, g);
        el("title", {}, g);
        return g;
      });
      const [x, y] = this.toScreen(inc.lat, inc.lon);
      const chosen = selected.kind === "incident" && selected.id === inc.id;
      node.setAttribute("class", `incident p${inc.priority}${chosen ? " selected" : ""}`);
      node.setAttribute("transform", `translate(${x.toFixed(1)},${y.toFixed(1)})`);
      node.dataset.select = "incident";
      node.dataset.id = inc.id;
      node.dataset.incidentId = inc.id;
      node.dataset.hover = `P${inc.priority} ${inc.nature}${inc.address ? ` — ${inc.address}` : ""} (${inc.status})`;
      const [num, label, title] = node.querySelectorAll("text, title");
      num.textContent = String(inc.priority);
      label.textContent = inc.nature;
      title.textContent = node.dataset.hover;
    }
    this.incidents.end();
  }

  renderDrones(drones, selected) {
    this.drones.begin();
    for (const d of drones) {
      const node = this.drones.get(d.id, (parent) => {
        const g = el("g", {}, parent);
        el("circle", { class: "halo", r: 16 }, g);
        el("path", { d: "M0,-12 L8,9 L0,4 L-8,9 Z" }, g);
        el("text", { x: 14, y: -2 }, g);
        el("text", { x: 14, y: 12 }, g);
        el("title", {}, g);
        return g;
      });
      let [x, y] = this.toScreen(d.lat, d.lon);
      if (d.placed === false) y += 22 * (d.dockSlot + 1); // no position yet: drawn under its dock
      const classes = ["drone"];
      if (d.placed === false) classes.push("unplaced");
      if (d.stale) classes.push("stale");
      if (d.link === "lost") classes.push("lost");
      if (d.airborne) classes.push("airborne");
      if (selected.kind === "drone" && selected.id === d.id) classes.push("selected");
      node.setAttribute("class", classes.join(" "));
      node.setAttribute("transform", `translate(${x.toFixed(1)},${y.toFixed(1)})`);
      node.querySelector("path").setAttribute("transform", `rotate(${(d.heading_deg ?? 0).toFixed(0)})`);
      node.dataset.select = "drone";
      node.dataset.id = d.id;
      node.dataset.droneId = d.id;
      node.dataset.hover = d.hover;
      const [line1, line2, title] = node.querySelectorAll("text, title");
      line1.textContent = d.label1;
      line2.textContent = d.label2;
      title.textContent = d.hover;
    }
    this.drones.end();
  }

  buildOverlay() {
    this.scaleBar = el("g", { class: "scale" }, this.overlay);
    this.scaleLine = el("line", {}, this.scaleBar);
    this.scaleTickA = el("line", {}, this.scaleBar);
    this.scaleTickB = el("line", {}, this.scaleBar);
    this.scaleText = el("text", {}, this.scaleBar);
    this.north = el("g", { class: "north", "aria-label": "north" }, this.overlay);
    el("path", { d: "M0,-16 L6,4 L0,0 L-6,4 Z" }, this.north);
    const n = el("text", { "text-anchor": "middle", y: 18 }, this.north);
    n.textContent = "N";
  }

  renderOverlay() {
    const [, h] = this.size();
    const lengthM = roundLengthM(140 / this.scale);
    const lengthPx = lengthM * this.scale;
    const x0 = 16;
    const y0 = h - 16;
    const set = (node, attrs) => Object.entries(attrs).forEach(([k, v]) => node.setAttribute(k, v));
    set(this.scaleLine, { x1: x0, y1: y0, x2: x0 + lengthPx, y2: y0 });
    set(this.scaleTickA, { x1: x0, y1: y0 - 5, x2: x0, y2: y0 + 1 });
    set(this.scaleTickB, { x1: x0 + lengthPx, y1: y0 - 5, x2: x0 + lengthPx, y2: y0 + 1 });
    set(this.scaleText, { x: x0, y: y0 - 8 });
    this.scaleText.textContent = formatDistance(lengthM);
    this.scaleBar.dataset.metres = String(lengthM);
    this.north.setAttribute("transform", `translate(${x0 + 10},${h - 70})`);
  }
}
