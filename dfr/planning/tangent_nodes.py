"""The nodes of the reduced visibility graph, and the tangency test for lines through them.

A node is a convex vertex of an obstacle ring (the obstacle on its left), pushed out
along the vertex's bisector so that both edge lines are ``NODE_OFFSET_M`` (1 cm) away:
a path bending there stays outside the obstacle. A line through a vertex is *tangent*
when it does not cut into the wedge between the vertex's two edges; only tangent lines
can be part of a shortest path (see :mod:`dfr.planning.visibility`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

NODE_OFFSET_M = 0.01
_TANGENT_TOL = 1e-9


def ring_nodes(coords: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Convex vertices of one ring oriented with the obstacle on its left.

    Returns (vertex, prev, next, offset node) arrays, each (k, 2).
    """
    pts = coords[:-1] if np.allclose(coords[0], coords[-1]) else coords
    if len(pts) < 3:
        empty = np.empty((0, 2))
        return empty, empty, empty, empty
    prev = np.roll(pts, 1, axis=0)
    nxt = np.roll(pts, -1, axis=0)
    e1 = pts - prev
    e2 = nxt - pts
    cross = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    convex = cross > 1e-12 * (np.hypot(*e1.T) * np.hypot(*e2.T) + 1e-300)
    l1 = np.hypot(e1[:, 0], e1[:, 1])
    l2 = np.hypot(e2[:, 0], e2[:, 1])
    ok = convex & (l1 > 0) & (l2 > 0)
    pts, prev, nxt, e1, e2, l1, l2 = pts[ok], prev[ok], nxt[ok], e1[ok], e2[ok], l1[ok], l2[ok]
    # right-hand normals point into free space (the obstacle is on the left)
    n1 = np.column_stack([e1[:, 1], -e1[:, 0]]) / l1[:, None]
    n2 = np.column_stack([e2[:, 1], -e2[:, 0]]) / l2[:, None]
    bis = n1 + n2
    bis_len = np.hypot(bis[:, 0], bis[:, 1])
    bis = bis / np.where(bis_len > 0, bis_len, 1.0)[:, None]
    # distance from the node to both edge lines is NODE_OFFSET_M: divide by cos(half turn)
    cos_half = np.clip(np.einsum("ij,ij->i", bis, n1), 0.05, 1.0)
    node = pts + bis * (NODE_OFFSET_M / cos_half)[:, None]
    return pts, prev, nxt, node


def is_tangent(
    vert: FloatArray, prev: FloatArray, nxt: FloatArray, towards: FloatArray
) -> npt.NDArray[np.bool_]:
    """True where the line from ``vert`` towards ``towards`` does not cut the vertex's wedge."""
    d = towards - vert
    c1 = d[..., 0] * (prev[..., 1] - vert[..., 1]) - d[..., 1] * (prev[..., 0] - vert[..., 0])
    c2 = d[..., 0] * (nxt[..., 1] - vert[..., 1]) - d[..., 1] * (nxt[..., 0] - vert[..., 0])
    result: npt.NDArray[np.bool_] = c1 * c2 >= -_TANGENT_TOL * (np.abs(c1) + np.abs(c2) + 1.0)
    return result
