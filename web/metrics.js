// The Metrics view: a window picker, the outcome figures of GET /api/v1/metrics, a
// histogram of call → on scene and flight hours per drone (inline SVG built with DOM
// calls), and the window's CSV.

import { h } from "./dom.js";
import { DASH, flightTime, known, percent, seconds } from "./format.js";

const SVG = "http://www.w3.org/2000/svg";
const DAY_MS = 24 * 3600 * 1000;
const BAR_W = 360;
const BAR_H = 120;

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

/** "2026-11-26T12:00" (a datetime-local input, read as UTC) → ISO 8601 UTC. */
function isoOf(local) {
  return local ? `${local}:00Z` : null;
}

function localOf(ms) {
  return new Date(ms).toISOString().slice(0, 16);
}

/** Bars with a label under each and the value over it; data-* for the tests. */
export function barChart(title, bars, { unit, kind }) {
  const max = Math.max(1e-9, ...bars.map((b) => b.value));
  const w = BAR_W / Math.max(1, bars.length);
  const chart = svg("svg", {
    viewBox: `0 0 ${BAR_W} ${BAR_H + 30}`,
    role: "img",
    "aria-label": title,
    class: "chart",
    "data-chart": kind,
  });
  bars.forEach((bar, i) => {
    const height = (bar.value / max) * BAR_H;
    const x = i * w;
    chart.append(
      svg("rect", {
        x: x + 2,
        y: BAR_H - height,
        width: Math.max(1, w - 4),
        height,
        class: "bar",
        "data-label": bar.label,
        "data-value": bar.value,
      }),
      svg("text", { x: x + w / 2, y: BAR_H + 14, "text-anchor": "middle", class: "axis" }, bar.label),
      svg("text", { x: x + w / 2, y: Math.max(10, BAR_H - height - 3), "text-anchor": "middle", class: "value" }, `${bar.text ?? bar.value}${unit}`),
    );
  });
  return chart;
}

/** Calls per bin of call → on scene seconds (bins of a round width, at most 8). */
export function histogram(values) {
  if (!values.length) return [];
  const top = Math.max(...values);
  const steps = [10, 30, 60, 120, 300, 600, 1800, 3600];
  const width = steps.find((s) => top / s < 8) ?? 3600;
  const bins = Math.floor(top / width) + 1;
  const counts = new Array(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor(v / width))] += 1;
  return counts.map((count, i) => ({ label: `${seconds(i * width)}–${seconds((i + 1) * width)}`, value: count }));
}

function figure(name, value, key) {
  return h("div", { class: "figure", dataset: { figure: key } }, h("span", { class: "figure-value" }, value), h("span", { class: "figure-name" }, name));
}

function share(s) {
  return s.of ? `${percent(s.pct)} (${s.count}/${s.of})` : DASH;
}

export class MetricsView {
  /** parts: {section, form, from, to, figures, charts, csv, status}; api(): the Api */
  constructor(parts, api) {
    this.parts = parts;
    this.api = api;
    const now = Date.now();
    parts.from.value = localOf(now - DAY_MS);
    parts.to.value = localOf(now + 60_000);
    parts.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.load();
    });
    parts.csv.addEventListener("click", (event) => {
      event.preventDefault();
      this.download();
    });
  }

  query() {
    const params = new URLSearchParams();
    const from = isoOf(this.parts.from.value);
    const to = isoOf(this.parts.to.value);
    if (from) params.set("from", from);
    if (to) params.set("to", to);
    return params.toString();
  }

  async load() {
    const { figures, charts, status, csv } = this.parts;
    const query = this.query();
    csv.href = `/api/v1/metrics.csv?${query}`;
    status.textContent = "loading…";
    let m;
    try {
      m = await this.api().get(`/metrics?${query}`);
    } catch (err) {
      status.textContent = `Metrics unavailable: ${err.message}`;
      return;
    }
    status.textContent = `${m.count} call${m.count === 1 ? "" : "s"} from ${m.window.from ?? "the start"} to ${m.window.to ?? "now"}`;
    const onScene = m.steps.on_scene_s;
    const hours = m.drones.reduce((sum, d) => sum + d.flight_h, 0);
    figures.replaceChildren(
      figure("calls", String(m.count), "calls"),
      figure("call → on scene, average", seconds(onScene.average_s), "on_scene_average"),
      figure("call → on scene, p90", seconds(onScene.p90_s), "on_scene_p90"),
      figure("call → first officer, average", seconds(m.steps.first_officer_s.average_s), "first_officer_average"),
      figure("drone first on scene", share(m.drone_first), "drone_first"),
      figure("cleared without an officer", share(m.cleared_without_officer), "cleared_without_officer"),
      figure("flights", String(m.flights.length), "flights"),
      figure("flight time", flightTime(hours), "flight_hours"),
    );
    const times = m.incidents.map((i) => i.on_scene_s).filter(known);
    charts.replaceChildren(
      h("figure", {}, h("figcaption", {}, "Call → on scene (calls per bin)"),
        times.length ? barChart("Call → on scene histogram", histogram(times), { unit: "", kind: "on_scene" }) : h("p", { class: "muted" }, "no call reached the scene in this window")),
      h("figure", {}, h("figcaption", {}, "Flight time per drone"),
        m.drones.length
          ? barChart("Flight hours per drone", m.drones.map((d) => ({ label: d.drone_id, value: d.flight_h, text: flightTime(d.flight_h) })), { unit: "", kind: "flight_hours" })
          : h("p", { class: "muted" }, "no flights in this window")),
    );
  }

  /** The CSV with this console's credential (a bearer token cannot ride on a plain link). */
  async download() {
    const api = this.api();
    const headers = api.token ? { Authorization: `Bearer ${api.token}` } : {};
    const response = await fetch(this.parts.csv.href, { headers, credentials: "same-origin", cache: "no-store" });
    if (!response.ok) {
      this.parts.status.textContent = `CSV refused (${response.status})`;
      return;
    }
    const url = URL.createObjectURL(await response.blob());
    const save = h("a", { href: url, download: `dfr-metrics-${this.query().replaceAll(/[^0-9TZa-z]/g, "")}.csv` });
    document.body.append(save);
    save.click();
    save.remove();
    URL.revokeObjectURL(url);
  }
}
