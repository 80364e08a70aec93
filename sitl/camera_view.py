"""The simulated camera's picture: a procedurally drawn city seen straight down.

:class:`Renderer` draws one YUV 4:2:0 frame for a :class:`CameraPose`: the repeating
ground tile (roads, blocks, parks, parking lots) at the drone's position, heading and
altitude, the incident marker, and a text overlay (drone id, UTC time, altitude). It runs
in the camera's worker thread (:mod:`sitl.camera`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from sitl.camera_font import GLYPH_HEIGHT, text_mask

HORIZONTAL_FOV_DEG = 70.0
MIN_VIEW_ALT_M = 3.0  # a camera on the dock still shows a few metres of ground

_TEXTURE_PX = 2048  # ground tile, repeats in both directions
_TEXTURE_M_PER_PX = 0.5
_BLOCK_PX = 256  # 128 m city blocks
_ROAD_PX = 24  # 12 m roads
_ROOF_COLOURS = ((180, 70, 60), (200, 200, 205), (90, 95, 110), (170, 150, 110))
M_PER_DEG_LAT = 110_540.0
M_PER_DEG_LON_EQUATOR = 111_320.0


@dataclass(frozen=True, slots=True)
class CameraPose:
    """Where the camera is and looks from (straight down), and the incident to mark."""

    lat_deg: float
    lon_deg: float
    alt_agl_m: float
    heading_deg: float
    marker_lat_deg: float | None = None
    marker_lon_deg: float | None = None


def _rgb_to_yuv(rgb: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.uint8], ...]:
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 0.257 * r + 0.504 * g + 0.098 * b + 16
    u = -0.148 * r - 0.291 * g + 0.439 * b + 128
    v = 0.439 * r - 0.368 * g - 0.071 * b + 128
    u = u.reshape(u.shape[0] // 2, 2, u.shape[1] // 2, 2).mean(axis=(1, 3))
    v = v.reshape(v.shape[0] // 2, 2, v.shape[1] // 2, 2).mean(axis=(1, 3))
    return tuple(np.clip(p, 0, 255).astype(np.uint8) for p in (y, u, v))


@functools.cache
def ground_texture() -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
    """The repeating ground tile as Y (full size), U and V (half size) planes. Built once."""
    rng = np.random.default_rng(5600)
    size = _TEXTURE_PX
    rgb = np.empty((size, size, 3), dtype=np.float32)
    rgb[:] = (112, 104, 92)  # bare ground
    rgb += rng.normal(0, 6, (size, size, 1)).astype(np.float32)
    blocks = size // _BLOCK_PX
    for row in range(blocks):
        for col in range(blocks):
            top, left = row * _BLOCK_PX + _ROAD_PX, col * _BLOCK_PX + _ROAD_PX
            inner = _BLOCK_PX - _ROAD_PX
            area = rgb[top : top + inner, left : left + inner]
            kind = rng.random()
            if kind < 0.2:  # park with trees
                area[:] = (70, 128, 62)
                for _ in range(40):
                    ty, tx = rng.integers(6, inner - 6, 2)
                    yy, xx = np.ogrid[-6:7, -6:7]
                    disc = yy * yy + xx * xx <= 30
                    area[ty - 6 : ty + 7, tx - 6 : tx + 7][disc] = (40, 90, 40)
            elif kind < 0.3:  # parking lot
                area[:] = (90, 90, 94)
                area[:, 8::14] = (220, 220, 220)
            else:  # buildings
                area[:] = (150, 146, 138)  # sidewalk / yard
                for _ in range(int(rng.integers(2, 6))):
                    height, width = rng.integers(30, inner // 2, 2)
                    y0 = int(rng.integers(6, inner - height - 6))
                    x0 = int(rng.integers(6, inner - width - 6))
                    roof = rng.choice(
                        [(180, 70, 60), (200, 200, 205), (90, 95, 110), (170, 150, 110)]
                    )
                    area[y0 : y0 + height, x0 : x0 + width] = roof
                    area[y0 : y0 + height, x0 : x0 + 2] *= 0.6  # shadow edge
    # roads with dashed centre lines (the tile starts with a road on each edge)
    for start in range(0, size, _BLOCK_PX):
        rgb[start : start + _ROAD_PX, :] = (60, 60, 64)
        rgb[:, start : start + _ROAD_PX] = (60, 60, 64)
        mid = start + _ROAD_PX // 2
        dashes = (np.arange(size) // 12) % 2 == 0
        rgb[mid, dashes] = (230, 200, 60)
        rgb[dashes, mid] = (230, 200, 60)
    y, u, v = _rgb_to_yuv(rgb)
    return y, u, v


_FIXED_ONE = 1 << 16


class _Planes(NamedTuple):
    """One frame's buffer (Y rows first, then U, then V) and views of its U and V planes."""

    buffer: npt.NDArray[np.uint8]
    u: npt.NDArray[np.uint8]
    v: npt.NDArray[np.uint8]


def _texture_index(
    col0: float,
    row0: float,
    col_per_x: float,
    col_per_y: float,
    row_per_x: float,
    row_per_y: float,
    xs: npt.NDArray[np.float64],
    ys: npt.NDArray[np.float64],
    size: int,
) -> npt.NDArray[np.int32]:
    """Flat indices into a repeating ``size``-square texture for an affine pixel mapping.

    The mapping is separable (col = col0 + a*x + b*y), so each full-size grid is one
    broadcast add of two fixed-point vectors — much cheaper than float grids.
    """
    mask = size - 1
    shift = size.bit_length() - 1
    cols = np.add.outer(
        ((col_per_y * ys) * _FIXED_ONE).astype(np.int32),
        ((col0 + col_per_x * xs) * _FIXED_ONE).astype(np.int32),
    )
    rows = np.add.outer(
        ((row0 + row_per_y * ys) * _FIXED_ONE).astype(np.int32),
        ((row_per_x * xs) * _FIXED_ONE).astype(np.int32),
    )
    np.right_shift(cols, 16, out=cols)
    np.bitwise_and(cols, mask, out=cols)
    np.right_shift(rows, 16, out=rows)
    np.bitwise_and(rows, mask, out=rows)
    np.left_shift(rows, shift, out=rows)
    np.bitwise_or(rows, cols, out=rows)
    return rows


class Renderer:
    """Draws one frame for a pose (YUV 4:2:0) — called from the worker thread only."""

    def __init__(self, label: str, width_px: int, height_px: int) -> None:
        self._label = label
        self._width_px = width_px
        self._height_px = height_px
        self._origin: tuple[float, float] | None = None
        # pixel offsets from the image centre, luma and (every other pixel) chroma
        self._xs = np.arange(width_px, dtype=np.float64) - width_px / 2
        self._ys = np.arange(height_px, dtype=np.float64) - height_px / 2
        self._cxs = self._xs[::2]
        self._cys = self._ys[::2]
        self._text_scale = max(1, height_px // 240)

    def _local_m(self, lat_deg: float, lon_deg: float) -> tuple[float, float]:
        if self._origin is None:
            self._origin = (lat_deg, lon_deg)
        lat0, lon0 = self._origin
        east_m = (lon_deg - lon0) * M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0))
        north_m = (lat_deg - lat0) * M_PER_DEG_LAT
        return east_m, north_m

    def render(self, pose: CameraPose, capture_time_us: int) -> npt.NDArray[np.uint8]:
        tex_y, tex_u, tex_v = ground_texture()
        width, height = self._width_px, self._height_px
        alt_m = max(pose.alt_agl_m, MIN_VIEW_ALT_M)
        m_per_px = 2 * alt_m * math.tan(math.radians(HORIZONTAL_FOV_DEG / 2)) / width
        east_m, north_m = self._local_m(pose.lat_deg, pose.lon_deg)
        theta = math.radians(pose.heading_deg)
        cos_t, sin_t = math.cos(theta), math.sin(theta)
        scale = m_per_px / _TEXTURE_M_PER_PX
        # the tile repeats: keep the origin inside it so fixed-point values stay small
        col0 = (east_m / _TEXTURE_M_PER_PX) % _TEXTURE_PX
        row0 = (-north_m / _TEXTURE_M_PER_PX) % _TEXTURE_PX
        out = np.empty((height * 3 // 2, width), dtype=np.uint8)
        # image right = (cos, -sin) in (east, north); image down = (-sin, -cos)
        index = _texture_index(
            col0,
            row0,
            scale * cos_t,
            -scale * sin_t,
            scale * sin_t,
            scale * cos_t,
            self._xs,
            self._ys,
            _TEXTURE_PX,
        )
        np.take(tex_y.reshape(-1), index, out=out[:height])
        u_plane = out[height : height + height // 4].reshape(height // 2, width // 2)
        v_plane = out[height + height // 4 :].reshape(height // 2, width // 2)
        cindex = _texture_index(
            col0 / 2,
            row0 / 2,
            scale * cos_t / 2,
            -scale * sin_t / 2,
            scale * sin_t / 2,
            scale * cos_t / 2,
            self._cxs,
            self._cys,
            _TEXTURE_PX // 2,
        )
        np.take(tex_u.reshape(-1), cindex, out=u_plane)
        np.take(tex_v.reshape(-1), cindex, out=v_plane)
        planes = _Planes(out, u_plane, v_plane)
        if pose.marker_lat_deg is not None and pose.marker_lon_deg is not None:
            marker_e, marker_n = self._local_m(pose.marker_lat_deg, pose.marker_lon_deg)
            de, dn = marker_e - east_m, marker_n - north_m
            x = width / 2 + (de * cos_t - dn * sin_t) / m_per_px
            y = height / 2 - (de * sin_t + dn * cos_t) / m_per_px
            self._draw_marker(planes, x, y, max(8.0, 6.0 / m_per_px))
        self._draw_overlay(planes, pose, capture_time_us)
        return out

    def _draw_marker(self, planes: _Planes, x: float, y: float, radius_px: float) -> None:
        out, u_plane, v_plane = planes
        height, width = self._height_px, self._width_px
        thickness_px = max(2.0, min(radius_px / 10, 6.0))
        reach = int(radius_px + thickness_px) + 2
        x0, x1 = max(0, int(x) - reach), min(width, int(x) + reach + 1)
        y0, y1 = max(0, int(y) - reach), min(height, int(y) + reach + 1)
        if x0 >= x1 or y0 >= y1:
            return
        yy, xx = np.ogrid[y0:y1, x0:x1]
        dist = np.hypot(xx - x, yy - y)
        ring = np.abs(dist - radius_px) < thickness_px
        cross = ((np.abs(xx - x) < thickness_px / 2) | (np.abs(yy - y) < thickness_px / 2)) & (
            dist < radius_px * 0.6
        )
        paint = ring | cross
        out[y0:y1, x0:x1][paint] = 82  # red in BT.601: Y 82, U 90, V 240
        cy0, cy1, cx0, cx1 = y0 // 2, (y1 + 1) // 2, x0 // 2, (x1 + 1) // 2
        chroma = paint[::2, ::2][: cy1 - cy0, : cx1 - cx0]
        u_plane[cy0 : cy0 + chroma.shape[0], cx0 : cx0 + chroma.shape[1]][chroma] = 90
        v_plane[cy0 : cy0 + chroma.shape[0], cx0 : cx0 + chroma.shape[1]][chroma] = 240

    def _draw_overlay(self, planes: _Planes, pose: CameraPose, capture_time_us: int) -> None:
        out, u_plane, v_plane = planes
        stamp = datetime.fromtimestamp(capture_time_us / 1e6, tz=UTC)
        lines = [
            self._label,
            stamp.strftime("%Y-%m-%d %H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
            f"ALT {pose.alt_agl_m:.0f}M AGL HDG {pose.heading_deg % 360:03.0f}",
        ]
        scale = self._text_scale
        pad = 2 * scale
        y = pad
        for line in lines:
            mask = text_mask(line, scale)
            rows, cols = mask.shape
            rows = min(rows, self._height_px - y - pad)
            cols = min(cols, self._width_px - 2 * pad)
            if rows <= 0 or cols <= 0:
                break
            box = out[y - scale : y + rows + scale, pad - scale : pad + cols + scale]
            box[:] = box // 3  # darken behind the text
            out[y : y + rows, pad : pad + cols][mask[:rows, :cols]] = 235
            u_plane[(y - scale) // 2 : (y + rows + scale) // 2, : (pad + cols + scale) // 2] = 128
            v_plane[(y - scale) // 2 : (y + rows + scale) // 2, : (pad + cols + scale) // 2] = 128
            y += rows + (GLYPH_HEIGHT // 2 + 2) * scale
