"""The report's one-page HTML summary: verdict, expectations with their evidence, calls
with their timings, faults with the system's reaction, and the picture (the PNG beside
it). Self-contained: inline CSS, no scripts, nothing from the network."""

from __future__ import annotations

from html import escape
from typing import Any

from dfr.scenario.service_view import JSON

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
table { border-collapse: collapse; width: 100%; } td, th { border: 1px solid #ccc; padding: 4px 6px; text-align: left; vertical-align: top; }
.pass { color: #0a0; font-weight: bold; } .fail { color: #c00; font-weight: bold; }
img { max-width: 100%; border: 1px solid #ccc; }
"""


def _s(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.0f}"
    return escape(str(value))


def render_page(report: JSON, picture_name: str) -> str:
    passed = report["passed"]
    rows_expect = "".join(
        f"<tr><td class='{'pass' if e['passed'] else 'fail'}'>{'PASS' if e['passed'] else 'FAIL'}</td>"
        f"<td>{escape(e['label'])}<br><small>line {e['line']}</small></td><td>{escape(e['evidence'])}</td></tr>"
        for e in report["expectations"]
    )
    rows_calls = ""
    for call in report["calls"]:
        flights = call.get("flights") or [{}]
        for flight in flights:
            rows_calls += (
                f"<tr><td>{_s(call['cad_id'])}</td><td>{_s((call.get('decision') or {}).get('outcome'))}</td>"
                f"<td>{_s(flight.get('drone_id'))}</td><td>{_s(call.get('posted_s'))}</td>"
                f"<td>{_s(call.get('decided_s'))}</td><td>{_s(flight.get('launch_s'))}</td>"
                f"<td>{_s(flight.get('airborne_s'))}</td><td>{_s(flight.get('on_scene_s'))}</td>"
                f"<td>{_s(flight.get('back_s'))}</td><td>{_s(call.get('time_to_scene_s'))}</td>"
                f"<td>{_s(flight.get('planned_distance_m'))} / {_s(flight.get('flown_to_scene_m'))} ({_s(flight.get('flown_distance_m'))})</td>"
                f"<td>{_s(', '.join(a['kind'] for a in flight.get('alerts', [])) or None)}</td>"
                f"<td>{_s(flight.get('outcome'))}</td></tr>"
            )
    rows_faults = "".join(
        f"<tr><td>{_s(f['start_s'])}–{_s(f['end_s'])}</td><td>{_s(f['kind'])} {_s(f['drone'])}</td>"
        f"<td>{_s(f['how'])}: {_s(f['result'])}</td><td>"
        + "<br>".join(
            escape(
                f"{r['scenario_s']:.0f} s: "
                + (
                    (r.get("alert") and f"alert {r['alert']}: {r['message']}")
                    or f"phase {r.get('phase')} ({r.get('reason')})"
                )
            )
            for r in f["reaction"]
        )
        + "</td></tr>"
        for f in report["faults"]
    )
    verdict_class = "pass" if passed else "fail"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dfr scenario {escape(report["scenario"])}</title>
<style>{STYLE}</style></head><body>
<h1>Scenario {escape(report["scenario"])}: <span class="{verdict_class}">{escape(report["verdict"])}</span></h1>
<p>{escape(report["description"])}</p>
<p>File {escape(report["file"])}; against {escape(report["against"])}; speed ×{report["speed_factor"]:g};
{report["scenario_s"]:.0f} scenario seconds in {report["real_s"]:.0f} real seconds{"; stopped at max_duration" if report["timed_out"] else ""}.
Times below are scenario seconds from the start.</p>
<h2>Expectations</h2>
<table><tr><th></th><th>expectation</th><th>evidence</th></tr>{rows_expect}</table>
<h2>Calls</h2>
<table><tr><th>call</th><th>decision</th><th>drone</th><th>posted</th><th>decided</th><th>launch</th><th>airborne</th>
<th>on scene</th><th>back</th><th>to scene</th><th>to scene: planned / flown m (whole flight)</th><th>alerts</th><th>outcome</th></tr>{rows_calls}</table>
<h2>Faults and the system's reaction</h2>
<table><tr><th>when</th><th>fault</th><th>how</th><th>reaction</th></tr>{rows_faults or "<tr><td colspan=4>none</td></tr>"}</table>
<h2>Flights over the airspace</h2>
<img src="{escape(picture_name)}" alt="flights over the airspace">
</body></html>
"""
