// The site map's layers on Leaflet: airspace zones, planned routes and flown tracks (SVG
// paths), and docks, incidents and drones (HTML markers kept by id and updated in place,
// so a 10 Hz telemetry stream moves markers instead of rebuilding them).
//
// Test hooks and hover text live on the elements: data-zone-kind / data-zone-name on zone
// paths, data-dock-id / data-incident-id / data-drone-id on markers, data-hover on both
// (the console shows it in #map-hover), path.route and path.track on lines.

import { L, droneGlyph, elementMarker, latLngsOfLine, pointArrow, shapeOf, zoneOptions } from "./map_base.js";

const UNPLACED_STEP_PX = 22; // drones without a position stack under their dock

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function span(className, parent) {
  const node = document.createElement("span");
  node.className = className;
  parent.appendChild(node);
  return node;
}

/** Airspace zones, drawn in the order given (console.js: ceiling cells, boundary, no-fly). */
export class ZoneLayer {
  constructor(map) {
    this.group = L.layerGroup().addTo(map);
    this.drawn = null;
  }

  /** Rebuilds when the list changed (a real site has ~1000 cells); true if it did. */
  render(zones) {
    if (zones === this.drawn) return false;
    this.drawn = zones;
    this.group.clearLayers();
    for (const zone of zones) {
      const shape = shapeOf(zone.geometry, zoneOptions(zone));
      if (!shape) continue;
      shape.on("add", () => {
        const path = shape.getElement();
        path.dataset.zoneKind = zone.kind;
        path.dataset.zoneName = zone.name;
        path.dataset.hover = zone.label;
      });
      this.group.addLayer(shape);
    }
    return true;
  }
}

/** Planned routes (dashed) and flown tracks, one path per flight, and the picked point. */
export class LineLayer {
  constructor(map) {
    this.map = map;
    this.lines = new Map(); // "route-<flight id>" -> {line, drawnKey}
    this.mark = null;
  }

  /** routes, tracks: [[flightId, [[lon, lat], ...]], ...] */
  render(routes, tracks) {
    const seen = new Set();
    const draw = (kind, flightId, coords) => {
      const key = `${kind}-${flightId}`;
      seen.add(key);
      // tracks grow by appending: redraw when they grew or their last point moved
      const drawnKey = `${coords.length}|${coords[coords.length - 1]}`;
      const entry = this.lines.get(key);
      if (!entry) {
        const line = L.polyline(latLngsOfLine(coords), { className: kind, interactive: false });
        line.on("add", () => {
          line.getElement().dataset.flightId = flightId;
        });
        this.lines.set(key, { line: line.addTo(this.map), drawnKey });
      } else if (entry.drawnKey !== drawnKey) {
        entry.line.setLatLngs(latLngsOfLine(coords));
        entry.drawnKey = drawnKey;
      }
    };
    for (const [flightId, coords] of routes) draw("route", flightId, coords);
    for (const [flightId, coords] of tracks) draw("track", flightId, coords);
    for (const [key, { line }] of this.lines) {
      if (!seen.has(key)) {
        line.remove();
        this.lines.delete(key);
      }
    }
  }

  /** Lines above zones (zones redrawn later would cover them). */
  bringToFront() {
    for (const { line } of this.lines.values()) line.bringToFront();
    this.mark?.bringToFront();
  }

  /** The point a command was sent to: [lat, lon], or null to clear it. */
  markPoint(latLon) {
    if (!latLon) {
      this.mark?.remove();
      this.mark = null;
    } else if (this.mark) {
      this.mark.setLatLng(latLon);
    } else {
      this.mark = L.circleMarker(latLon, { radius: 10, className: "pick-mark", interactive: false, fill: false });
      this.mark.addTo(this.map);
    }
  }
}

/** Markers keyed by id in one pane; `build()` makes an element once, `update(el, item)` keeps it current. */
class MarkerLayer {
  constructor(map, pane, { build, update, onClick = null }) {
    this.map = map;
    this.pane = pane;
    this.build = build;
    this.update = update;
    this.onClick = onClick;
    this.markers = new Map(); // id -> {marker, element}
  }

  render(items, ...context) {
    const seen = new Set();
    for (const item of items) {
      seen.add(item.id);
      let entry = this.markers.get(item.id);
      if (!entry) {
        const element = this.build();
        const marker = elementMarker([item.lat, item.lon], element, { pane: this.pane, interactive: true });
        if (this.onClick) marker.on("click", () => this.onClick(item.id));
        entry = { marker: marker.addTo(this.map), element };
        this.markers.set(item.id, entry);
      } else {
        const at = entry.marker.getLatLng();
        if (at.lat !== item.lat || at.lng !== item.lon) entry.marker.setLatLng([item.lat, item.lon]);
      }
      this.update(entry.element, item, ...context);
    }
    for (const [id, { marker }] of this.markers) {
      if (!seen.has(id)) {
        marker.remove();
        this.markers.delete(id);
      }
    }
  }
}

export function dockLayer(map, pane) {
  return new MarkerLayer(map, pane, {
    build() {
      const el = document.createElement("div");
      el.className = "dock";
      span("box", el);
      span("label", el);
      return el;
    },
    update(el, dock) {
      // a dock a supervisor put on hold says so, with why and who, on the map
      const hold = dock.hold ? `on hold: ${dock.hold.reason} (by ${dock.hold.by})` : "";
      el.dataset.dockId = dock.id;
      el.dataset.hover = `dock ${dock.id}: ${dock.name}${hold ? ` — ${hold}` : ""}`;
      el.title = `${dock.name} — ground ${Math.round(dock.ground_alt_amsl_m)} m AMSL${hold ? `\n${hold}` : ""}`;
      el.classList.toggle("held", Boolean(dock.hold));
      setText(el.querySelector(".label"), dock.hold ? `${dock.id} on hold` : dock.id);
    },
  });
}

export function incidentLayer(map, pane, onSelect) {
  return new MarkerLayer(map, pane, {
    onClick: (id) => onSelect("incident", id),
    build() {
      const el = document.createElement("div");
      span("num", span("dot", el));
      span("label", el);
      return el;
    },
    update(el, inc, selected) {
      const chosen = selected.kind === "incident" && selected.id === inc.id;
      const className = `incident p${inc.priority}${chosen ? " selected" : ""}`;
      if (el.className !== className) el.className = className;
      el.dataset.id = inc.id;
      el.dataset.incidentId = inc.id;
      el.dataset.hover = `P${inc.priority} ${inc.nature}${inc.address ? ` — ${inc.address}` : ""} (${inc.status})`;
      el.title = el.dataset.hover;
      setText(el.querySelector(".num"), String(inc.priority));
      setText(el.querySelector(".label"), inc.nature);
    },
  });
}

export function droneLayer(map, pane, onSelect) {
  return new MarkerLayer(map, pane, {
    onClick: (id) => onSelect("drone", id),
    build() {
      const el = document.createElement("div");
      el.appendChild(droneGlyph());
      const labels = span("labels", el);
      span("label", labels);
      span("label", labels);
      return el;
    },
    update(el, d, selected) {
      const classes = ["drone"];
      if (d.placed === false) classes.push("unplaced");
      if (d.stale) classes.push("stale");
      if (d.link === "lost") classes.push("lost");
      if (d.airborne) classes.push("airborne");
      if (selected.kind === "drone" && selected.id === d.id) classes.push("selected");
      const className = classes.join(" ");
      if (el.className !== className) el.className = className;
      // no position yet: drawn under its dock, one step per drone of that dock
      const offset = d.placed === false ? `translateY(${UNPLACED_STEP_PX * (d.dockSlot + 1)}px)` : "";
      if (el.style.transform !== offset) el.style.transform = offset;
      pointArrow(el.firstChild, d.heading_deg);
      el.dataset.id = d.id;
      el.dataset.droneId = d.id;
      el.dataset.hover = d.hover;
      el.title = d.hover;
      const [line1, line2] = el.querySelectorAll(".label");
      setText(line1, d.label1);
      setText(line2, d.label2);
    },
  });
}
