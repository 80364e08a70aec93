"""Exact shortest paths among polygonal obstacles: a reduced (bitangent) visibility graph.

The shortest path between two points in the plane minus open polygonal obstacles
bends only at convex obstacle vertices, and every bend lies on a line that is
tangent to the obstacle at that vertex. So the graph needs only:

* **nodes**: the convex vertices of the obstacles (vertices whose interior angle,
  measured inside the obstacle, is below 180°), each pushed out along its bisector by
  ``NODE_OFFSET_M`` (1 cm) so that a path touching the obstacle there stays outside it
  (:mod:`dfr.planning.tangent_nodes` holds the nodes and the tangency test);
* **edges**: pairs of nodes that see each other *and* whose joining line is locally
  tangent at both ends (both neighbours of each vertex lie on one side of the line).
  The tangency filter is one vectorised numpy pass per node; the surviving lines are
  checked for visibility in bulk with shapely 2: an STRtree of the obstacles gives the
  candidate (line, obstacle) pairs by bounding box and one vectorised ``intersects``
  against *prepared* obstacles settles them.

A query from ``s`` to ``g`` first tests the straight segment (one prepared
``intersects``); if it is blocked, one "sweep" per endpoint finds the visible, tangent
nodes, and A* (Euclidean heuristic, admissible and consistent) runs over the graph.
:meth:`VisibilityGraph.tree_from` precomputes a shortest-path tree (Dijkstra) from a
fixed point such as a dock; ranking many docks for one incident then costs one sweep
from the incident plus a vectorised minimum over the trees.

Geometry is metric (a :class:`dfr.geo.frame.LocalFrame`), never degrees.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from dfr.errors import NoRoute, PlanningError
from dfr.planning.tangent_nodes import FloatArray, is_tangent, ring_nodes

logger = logging.getLogger(__name__)

IntArray = npt.NDArray[np.int64]

_ROW_CHUNK = 256


@dataclass(frozen=True, slots=True)
class ShortestPath:
    """A polyline in the local frame (metres) and its length."""

    points_xy: tuple[tuple[float, float], ...]
    length_m: float


@dataclass(frozen=True, slots=True)
class PathTree:
    """Shortest-path distances from one fixed origin to every node of a graph."""

    origin_xy: tuple[float, float]
    dist_m: FloatArray  # (n_nodes,), inf where unreachable
    pred: IntArray  # (n_nodes,), -1 = reached straight from the origin, -2 = unreachable


class VisibilityGraph:
    """The reduced visibility graph of a fixed set of polygonal obstacles (metres).

    ``obstacles`` are polygons whose interiors and boundaries are forbidden; they may
    overlap (they are unioned) and may have holes (free pockets, e.g. an operating
    boundary expressed as the hole of a large frame polygon).
    """

    def __init__(self, obstacles: Sequence[BaseGeometry]) -> None:
        merged = (
            shapely.union_all(np.asarray(list(obstacles), dtype=object)) if obstacles else Polygon()
        )
        polys = [p for p in shapely.get_parts(merged) if isinstance(p, Polygon) and not p.is_empty]
        polys = [shapely.orient_polygons(p, exterior_cw=False) for p in polys]
        self.polygons: list[Polygon] = polys
        self._polys_arr = np.asarray(polys, dtype=object)
        shapely.prepare(self._polys_arr)
        self._tree = shapely.STRtree(self._polys_arr)
        self.piece_m = _piece_length_m(polys)
        verts, prevs, nexts, nodes = [], [], [], []
        for poly in polys:
            for ring in (poly.exterior, *poly.interiors):
                v, p, n, x = ring_nodes(np.asarray(ring.coords, dtype=float))
                verts.append(v)
                prevs.append(p)
                nexts.append(n)
                nodes.append(x)
        self.vert = np.concatenate(verts) if verts else np.empty((0, 2))
        self.prev = np.concatenate(prevs) if prevs else np.empty((0, 2))
        self.next = np.concatenate(nexts) if nexts else np.empty((0, 2))
        self.node = np.concatenate(nodes) if nodes else np.empty((0, 2))
        # a node pushed into another obstacle (touching polygons) is useless: drop it
        if len(self.node):
            inside = self._blocked_points(self.node)
            keep = ~inside
            self.vert, self.prev, self.next, self.node = (
                self.vert[keep],
                self.prev[keep],
                self.next[keep],
                self.node[keep],
            )
        self.adj: list[list[tuple[int, float]]] = [[] for _ in range(len(self.node))]
        self.n_edges = 0
        self._build_edges()
        logger.debug(
            "visibility graph: %d obstacles, %d nodes, %d edges",
            len(polys),
            len(self.node),
            self.n_edges,
        )

    # -- geometry tests -----------------------------------------------------------------

    @property
    def n_nodes(self) -> int:
        return len(self.node)

    def _blocked_points(self, xy: FloatArray) -> npt.NDArray[np.bool_]:
        pts = shapely.points(xy)
        idx_pt, idx_poly = self._tree.query(pts)
        hit = np.zeros(len(xy), dtype=bool)
        if len(idx_pt):
            inter = shapely.intersects(self._polys_arr[idx_poly], pts[idx_pt])
            hit[idx_pt[inter]] = True
        return hit

    def blocked(self, a_xy: FloatArray, b_xy: FloatArray) -> npt.NDArray[np.bool_]:
        """For each segment a[i]→b[i]: does it touch any obstacle? (vectorised)

        Long segments have huge bounding boxes, so each is cut into pieces of about
        ``self.piece_m`` and the pieces are tested in rounds, from the ends inwards;
        a segment found blocked drops out of the later rounds. The union of the
        pieces is the segment, so the answer is exact.
        """
        a_xy = np.asarray(a_xy, dtype=float).reshape(-1, 2)
        b_xy = np.asarray(b_xy, dtype=float).reshape(-1, 2)
        n = len(a_xy)
        hit = np.zeros(n, dtype=bool)
        if n == 0 or len(self.polygons) == 0:
            return hit
        length = np.hypot(*(b_xy - a_xy).T)
        n_pieces = np.maximum(1, np.ceil(length / self.piece_m)).astype(np.int64)
        alive = np.arange(n)
        for r in range(int(n_pieces.max())):
            alive = alive[(n_pieces[alive] > r) & ~hit[alive]]
            if len(alive) == 0:
                break
            k = n_pieces[alive]
            # piece order 0, last, 1, last-1, ...: blocking obstacles are most often near an end
            half = r // 2
            idx = np.where(r % 2 == 0, half, k - 1 - half)
            t0 = (idx / k)[:, None]
            t1 = ((idx + 1) / k)[:, None]
            a, d = a_xy[alive], b_xy[alive] - a_xy[alive]
            lines = shapely.linestrings(np.stack([a + d * t0, a + d * t1], axis=1))
            hit[alive[self._hits(lines)]] = True
        return hit

    def _hits(self, lines: npt.NDArray[np.object_]) -> npt.NDArray[np.bool_]:
        """Which of these line geometries touch an obstacle (bbox query + prepared test)."""
        out = np.zeros(len(lines), dtype=bool)
        idx_line, idx_poly = self._tree.query(lines)
        if len(idx_line):
            inter = shapely.intersects(self._polys_arr[idx_poly], lines[idx_line])
            out[idx_line[inter]] = True
        return out

    def point_free(self, xy: tuple[float, float]) -> bool:
        """True if the point is outside every obstacle (boundary counts as inside)."""
        return not bool(self._blocked_points(np.asarray([xy], dtype=float))[0])

    def segment_free(self, a: tuple[float, float], b: tuple[float, float]) -> bool:
        return not bool(self.blocked(np.asarray([a]), np.asarray([b]))[0])

    # -- building ----------------------------------------------------------------------

    def _build_edges(self) -> None:
        n = len(self.node)
        if n < 2:
            return
        rows: list[IntArray] = []
        cols: list[IntArray] = []
        for start in range(0, n - 1, _ROW_CHUNK):
            stop = min(start + _ROW_CHUNK, n - 1)
            for i in range(start, stop):
                j = np.arange(i + 1, n)
                ok = is_tangent(self.vert[i], self.prev[i], self.next[i], self.node[j])
                j = j[ok]
                ok = is_tangent(self.vert[j], self.prev[j], self.next[j], self.node[i])
                j = j[ok]
                if len(j):
                    rows.append(np.full(len(j), i, dtype=np.int64))
                    cols.append(j.astype(np.int64))
        if not rows:
            return
        ii = np.concatenate(rows)
        jj = np.concatenate(cols)
        vis = np.zeros(len(ii), dtype=bool)
        step = 200_000
        for s in range(0, len(ii), step):
            vis[s : s + step] = ~self.blocked(
                self.node[ii[s : s + step]], self.node[jj[s : s + step]]
            )
        ii, jj = ii[vis], jj[vis]
        w = np.hypot(*(self.node[ii] - self.node[jj]).T)
        adj = self.adj
        for a, b, d in zip(ii.tolist(), jj.tolist(), w.tolist(), strict=True):
            adj[a].append((b, d))
            adj[b].append((a, d))
        self.n_edges = len(ii)

    # -- queries -----------------------------------------------------------------------

    def visible_nodes(self, xy: tuple[float, float]) -> tuple[IntArray, FloatArray]:
        """Nodes that a free point sees along lines tangent at the node, and their distances."""
        if len(self.node) == 0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        p = np.asarray(xy, dtype=float)
        ok = is_tangent(self.vert, self.prev, self.next, p[None, :])
        j = np.nonzero(ok)[0]
        free = ~self.blocked(np.broadcast_to(p, (len(j), 2)), self.node[j])
        j = j[free]
        return j.astype(np.int64), np.hypot(*(self.node[j] - p).T)

    def shortest_path(self, start: tuple[float, float], goal: tuple[float, float]) -> ShortestPath:
        """Exact shortest obstacle-free path; raises PlanningError / NoRoute."""
        if not self.point_free(start):
            raise PlanningError(f"start ({start[0]:.1f}, {start[1]:.1f}) m is inside an obstacle")
        if not self.point_free(goal):
            raise PlanningError(f"goal ({goal[0]:.1f}, {goal[1]:.1f}) m is inside an obstacle")
        if self.segment_free(start, goal):
            return ShortestPath((start, goal), math.dist(start, goal))
        s_nodes, s_dist = self.visible_nodes(start)
        g_nodes, g_dist = self.visible_nodes(goal)
        if len(s_nodes) == 0 or len(g_nodes) == 0:
            which = "start" if len(s_nodes) == 0 else "goal"
            raise NoRoute(f"the {which} is enclosed: it sees no way around the zones that block it")
        gx, gy = goal
        goal_cost = dict(zip(g_nodes.tolist(), g_dist.tolist(), strict=True))
        node = self.node
        hx = np.hypot(node[:, 0] - gx, node[:, 1] - gy).tolist()
        dist: dict[int, float] = {}
        pred: dict[int, int] = {}
        heap: list[tuple[float, float, int]] = []
        for j, d in zip(s_nodes.tolist(), s_dist.tolist(), strict=True):
            dist[j] = d
            pred[j] = -1
            heapq.heappush(heap, (d + hx[j], d, j))
        best = math.inf
        best_last = -1
        closed: set[int] = set()
        adj = self.adj
        while heap:
            f, d, u = heapq.heappop(heap)
            if f >= best:
                break
            if u in closed or d > dist.get(u, math.inf):
                continue
            closed.add(u)
            gc = goal_cost.get(u)
            if gc is not None and d + gc < best:
                best = d + gc
                best_last = u
            for v, w in adj[u]:
                nd = d + w
                if nd < dist.get(v, math.inf):
                    dist[v] = nd
                    pred[v] = u
                    heapq.heappush(heap, (nd + hx[v], nd, v))
        if best_last < 0:
            raise NoRoute("no obstacle-free path joins start and goal")
        chain = [best_last]
        while pred[chain[-1]] >= 0:
            chain.append(pred[chain[-1]])
        chain.reverse()
        pts = [start, *[(float(node[k, 0]), float(node[k, 1])) for k in chain], goal]
        return ShortestPath(tuple(pts), best)

    def tree_from(self, origin: tuple[float, float]) -> PathTree:
        """Dijkstra from a fixed free point (e.g. a dock) to every node."""
        if not self.point_free(origin):
            raise PlanningError(f"({origin[0]:.1f}, {origin[1]:.1f}) m is inside an obstacle")
        n = len(self.node)
        dist = [math.inf] * n
        pred = [-2] * n
        nodes, dists = self.visible_nodes(origin)
        heap: list[tuple[float, int]] = []
        for j, d in zip(nodes.tolist(), dists.tolist(), strict=True):
            dist[j] = d
            pred[j] = -1
            heap.append((d, j))
        heapq.heapify(heap)
        adj = self.adj
        done = [False] * n
        while heap:
            d, u = heapq.heappop(heap)
            if done[u]:
                continue
            done[u] = True
            for v, w in adj[u]:
                nd = d + w
                if nd < dist[v]:
                    dist[v] = nd
                    pred[v] = u
                    heapq.heappush(heap, (nd, v))
        return PathTree(
            (float(origin[0]), float(origin[1])),
            np.asarray(dist, dtype=float),
            np.asarray(pred, dtype=np.int64),
        )

    def path_in_tree(
        self, tree: PathTree, last_node: int, goal: tuple[float, float]
    ) -> ShortestPath:
        """The path origin → … → ``last_node`` → goal recorded in ``tree``."""
        chain = [last_node]
        while tree.pred[chain[-1]] >= 0:
            chain.append(int(tree.pred[chain[-1]]))
        chain.reverse()
        pts = [
            tree.origin_xy,
            *[(float(self.node[k, 0]), float(self.node[k, 1])) for k in chain],
            goal,
        ]
        length = float(tree.dist_m[last_node]) + math.dist(pts[-2], goal)
        return ShortestPath(tuple(pts), length)

    def paths_from_trees(
        self, trees: Sequence[PathTree], goal: tuple[float, float]
    ) -> list[ShortestPath | None]:
        """Shortest path from each tree's origin to ``goal``: one sweep from the goal.

        ``None`` for an origin that cannot reach the goal.
        """
        out: list[ShortestPath | None] = [None] * len(trees)
        if not trees:
            return out
        origins = np.asarray([t.origin_xy for t in trees], dtype=float)
        g = np.asarray(goal, dtype=float)
        direct = ~self.blocked(origins, np.broadcast_to(g, origins.shape))
        g_nodes, g_dist = self.visible_nodes(goal)
        if len(g_nodes):
            dmat = np.stack([t.dist_m[g_nodes] for t in trees]) + g_dist[None, :]
            best_col = np.argmin(dmat, axis=1)
            best_len = dmat[np.arange(len(trees)), best_col]
        for k, tree in enumerate(trees):
            if direct[k]:
                out[k] = ShortestPath(
                    (tree.origin_xy, (float(g[0]), float(g[1]))), math.dist(tree.origin_xy, goal)
                )
            elif len(g_nodes) and math.isfinite(float(best_len[k])):
                out[k] = self.path_in_tree(
                    tree, int(g_nodes[best_col[k]]), (float(g[0]), float(g[1]))
                )
        return out

    def nearest_free_point(
        self, xy: tuple[float, float], clearance_m: float = 0.5
    ) -> tuple[float, float]:
        """The closest point outside every obstacle (``clearance_m`` beyond its edge)."""
        if self.point_free(xy):
            return xy
        p = Point(xy)
        best: tuple[float, float] | None = None
        best_d = math.inf
        for idx in self._tree.query(p, predicate="intersects").tolist():
            edge = self.polygons[idx].buffer(clearance_m, quad_segs=8).boundary
            q = shapely.line_interpolate_point(edge, shapely.line_locate_point(edge, p))
            d = p.distance(q)
            if d < best_d and self.point_free((q.x, q.y)):
                best, best_d = (float(q.x), float(q.y)), d
        if best is None:
            raise PlanningError(f"no free point near ({xy[0]:.1f}, {xy[1]:.1f}) m")
        return best


def _piece_length_m(polys: Sequence[Polygon]) -> float:
    """Piece length for segment tests: about the typical obstacle size (>= 50 m)."""
    if not polys:
        return 1e9
    bounds = shapely.bounds(np.asarray(polys, dtype=object))
    extent = np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
    return float(max(50.0, 2.0 * np.median(extent)))


def polyline_length_m(points: Sequence[tuple[float, float]]) -> float:
    return sum(math.dist(a, b) for a, b in itertools.pairwise(points))


def as_linestring(path: ShortestPath) -> LineString:
    return LineString(path.points_xy)
