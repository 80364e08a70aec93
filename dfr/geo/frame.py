"""The local metric frame of a site: azimuthal equidistant around one origin.

All geometry work (buffers, unions, visibility, lengths) happens in this frame, in
metres: x east, y north. Degrees are only converted at the edges, through the two
transformers built once here. Geodesic checks use :class:`pyproj.Geod` (WGS 84).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from pyproj import CRS, Geod, Transformer

FloatArray = npt.NDArray[np.float64]

WGS84 = CRS.from_epsg(4326)
GEOD = Geod(ellps="WGS84")


class LocalFrame:
    """An azimuthal-equidistant CRS centred on ``(origin_lat, origin_lon)``.

    Distances from the origin are exact; within ~50 km of it, distances between any
    two points are within ~0.1 % of the geodesic, which is what a city site needs.
    """

    __slots__ = ("_to_ll", "_to_xy", "crs", "origin_lat", "origin_lon")

    def __init__(self, origin_lat: float, origin_lon: float) -> None:
        self.origin_lat = float(origin_lat)
        self.origin_lon = float(origin_lon)
        self.crs = CRS.from_proj4(
            f"+proj=aeqd +lat_0={self.origin_lat} +lon_0={self.origin_lon} "
            "+datum=WGS84 +units=m +no_defs"
        )
        self._to_xy = Transformer.from_crs(WGS84, self.crs, always_xy=True)
        self._to_ll = Transformer.from_crs(self.crs, WGS84, always_xy=True)

    def __repr__(self) -> str:
        return f"LocalFrame({self.origin_lat:.6f}, {self.origin_lon:.6f})"

    def to_xy(self, lat: float, lon: float) -> tuple[float, float]:
        """One point, degrees -> metres (x east, y north)."""
        x, y = self._to_xy.transform(lon, lat)
        return float(x), float(y)

    def to_latlon(self, x_m: float, y_m: float) -> tuple[float, float]:
        """One point, metres -> (lat, lon) degrees."""
        lon, lat = self._to_ll.transform(x_m, y_m)
        return float(lat), float(lon)

    def lonlat_to_xy(
        self, lon: Sequence[float] | FloatArray, lat: Sequence[float] | FloatArray
    ) -> FloatArray:
        """Arrays of lon/lat degrees -> an (n, 2) array of metres."""
        x, y = self._to_xy.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        return np.column_stack([np.atleast_1d(x), np.atleast_1d(y)])

    def xy_to_lonlat(self, xy: FloatArray) -> FloatArray:
        """An (n, 2) array of metres -> an (n, 2) array of (lon, lat) degrees."""
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        lon, lat = self._to_ll.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([np.atleast_1d(lon), np.atleast_1d(lat)])


def geodesic_distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """WGS 84 geodesic distance between two points, metres."""
    _, _, dist_m = GEOD.inv(lon1, lat1, lon2, lat2)
    return float(dist_m)
