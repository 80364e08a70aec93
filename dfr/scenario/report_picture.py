"""The report's picture: the flights over the airspace, in the site's local metric frame
(metres east/north of the first dock): no-fly zones with their buffers, the operating
boundary, docks, calls, each flight's planned route (dashed) and flown track (solid).
Drawn with matplotlib's Agg backend (no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from shapely.geometry import MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

from dfr.geo.frame import LocalFrame
from dfr.scenario.service_view import JSON, Observed

MARGIN_M = 600.0
COLOURS = ["tab:blue", "tab:green", "tab:purple", "tab:brown", "tab:cyan", "tab:olive", "tab:pink"]


def _local(frame: LocalFrame, feature: JSON) -> BaseGeometry | None:
    geometry = feature.get("geometry") or {}
    kind = geometry.get("type")
    if kind == "Point":
        lon, lat = geometry["coordinates"][:2]
        return Point(frame.to_xy(lat, lon))
    if kind == "Polygon":
        ring = geometry["coordinates"][0]
        return Polygon([frame.to_xy(lat, lon) for lon, lat, *_ in ring])
    if kind == "MultiPolygon":
        return MultiPolygon(
            [
                Polygon([frame.to_xy(lat, lon) for lon, lat, *_ in polygon[0]])
                for polygon in geometry["coordinates"]
            ]
        )
    return None


def _draw_area(ax: Any, geometry: BaseGeometry, **style: Any) -> None:
    polygons = getattr(geometry, "geoms", [geometry])
    for polygon in polygons:
        if polygon.geom_type != "Polygon":
            continue
        xs, ys = polygon.exterior.xy
        ax.fill(xs, ys, **style)


def draw_flights(observed: Observed, calls: list[JSON], title: str, out: Path) -> None:
    """Write the picture of the run to ``out`` (PNG)."""
    docks = observed.docks
    origin = (docks[0]["lat"], docks[0]["lon"]) if docks else (0.0, 0.0)
    frame = LocalFrame(*origin)
    xs: list[float] = []
    ys: list[float] = []

    def keep(lat: float, lon: float) -> tuple[float, float]:
        x, y = frame.to_xy(lat, lon)
        xs.append(x)
        ys.append(y)
        return x, y

    fig, ax = plt.subplots(figsize=(8, 8), dpi=100)
    try:
        for dock in docks:
            x, y = keep(dock["lat"], dock["lon"])
            ax.plot(x, y, "ks", markersize=8)
            ax.annotate(dock["id"], (x, y), textcoords="offset points", xytext=(6, -12))
        colour_of: dict[str, str] = {}
        for flight in sorted(observed.flights.values(), key=lambda f: str(f["created_at"])):
            colour = colour_of.setdefault(
                flight["drone_id"], COLOURS[len(colour_of) % len(COLOURS)]
            )
            route = (flight.get("route") or {}).get("geometry") or {}
            if route.get("type") == "LineString":
                pts = [keep(lat, lon) for lon, lat, *_ in route["coordinates"]]
                ax.plot([p[0] for p in pts], [p[1] for p in pts], "--", color=colour, lw=1)
            track = observed.tracks.get(flight["id"])
            if track:
                pts = [keep(lat, lon) for lon, lat, *_ in track["geometry"]["coordinates"]]
                label = f"{flight['drone_id']} ({flight['outcome'] or flight['phase']})"
                ax.plot(
                    [p[0] for p in pts], [p[1] for p in pts], "-", color=colour, lw=2, label=label
                )
        for call in calls:
            location = call.get("location")
            if not location:
                continue
            x, y = keep(location["lat"], location["lon"])
            ax.plot(x, y, "r*", markersize=14)
            ax.annotate(
                call["cad_id"], (x, y), textcoords="offset points", xytext=(6, 6), color="darkred"
            )
        if not xs:
            xs, ys = [0.0], [0.0]
        view = box(min(xs) - MARGIN_M, min(ys) - MARGIN_M, max(xs) + MARGIN_M, max(ys) + MARGIN_M)
        for feature in observed.airspace.get("features", []):
            props = feature.get("properties", {})
            geometry = _local(frame, feature)
            if geometry is None:
                continue
            radius_m = float(props.get("radius_m") or 0.0)
            if radius_m > 0:
                geometry = geometry.buffer(radius_m)
            buffered = geometry.buffer(float(props.get("buffer_m") or 0.0))
            if not buffered.intersects(view):
                continue
            kind = props.get("kind")
            if kind == "no_fly":
                _draw_area(ax, buffered, color="red", alpha=0.25)
                _draw_area(
                    ax,
                    geometry.buffer(1.0) if geometry.geom_type == "Point" else geometry,
                    color="red",
                    alpha=0.35,
                )
            elif kind == "ceiling":
                _draw_area(ax, geometry, color="orange", alpha=0.08)
            elif kind == "boundary" and geometry.geom_type == "Polygon":
                bx, by = geometry.exterior.xy
                ax.plot(bx, by, ":", color="grey", lw=1)
        ax.set_xlim(view.bounds[0], view.bounds[2])
        ax.set_ylim(view.bounds[1], view.bounds[3])
        ax.set_aspect("equal")
        ax.set_xlabel("east of the first dock (m)")
        ax.set_ylabel("north of the first dock (m)")
        ax.set_title(title)
        if observed.flights:
            ax.legend(loc="best", fontsize=8)
        ax.grid(True, alpha=0.3)
        fig.tight_layout()
        fig.savefig(out, format="png")
    finally:
        plt.close(fig)
