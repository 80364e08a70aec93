// The scale bar (a round length: 1, 2 or 5 × 10^n m, at most SCALE_MAX_PX long) and a
// north arrow, as one Leaflet control. The bar measures at the middle of the view: in Web
// Mercator metres per pixel change with latitude, and over a city-sized site by little.

import { formatDistance } from "./format.js";
import { L, svgEl } from "./map_base.js";

const SCALE_MAX_PX = 140;

/** A round length for a scale bar no longer than maxM: 1, 2 or 5 × 10^n metres. */
export function roundLengthM(maxM) {
  const base = 10 ** Math.floor(Math.log10(maxM));
  for (const step of [5, 2, 1]) {
    if (step * base <= maxM) return step * base;
  }
  return base;
}

/** Metres per screen pixel at the middle of the map's view. */
export function metresPerPixel(map) {
  const size = map.getSize();
  const y = size.y / 2;
  const x = Math.max(0, size.x / 2 - 50);
  const a = map.containerPointToLatLng([x, y]);
  const b = map.containerPointToLatLng([x + 100, y]);
  return map.distance(a, b) / 100;
}

/** Scale bar and north arrow; `data-metres` on `.scale` holds the bar's length. */
export const ScaleBar = L.Control.extend({
  options: { position: "bottomleft" },

  onAdd(map) {
    const box = L.DomUtil.create("div", "map-scale");
    const north = svgEl("svg", { class: "north", viewBox: "-10 -18 20 40", width: 20, height: 40, role: "img", "aria-label": "north" }, box);
    svgEl("path", { d: "M0,-16 L6,4 L0,0 L-6,4 Z" }, north);
    svgEl("text", { "text-anchor": "middle", y: 18 }, north).textContent = "N";
    this.scale = L.DomUtil.create("div", "scale", box);
    this.text = L.DomUtil.create("span", "scale-text", this.scale);
    this.bar = L.DomUtil.create("div", "scale-bar", this.scale);
    map.on("move zoom resize", this.update, this);
    this.update();
    return box;
  },

  onRemove(map) {
    map.off("move zoom resize", this.update, this);
  },

  update() {
    const map = this._map;
    if (!map) return;
    const mPerPx = metresPerPixel(map);
    if (!(mPerPx > 0)) return;
    const lengthM = roundLengthM(SCALE_MAX_PX * mPerPx);
    this.bar.style.width = `${(lengthM / mPerPx).toFixed(0)}px`;
    this.text.textContent = formatDistance(lengthM);
    this.scale.dataset.metres = String(lengthM);
  },
});
