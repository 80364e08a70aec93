"""One airspace state compiled for planning: obstacles, visibility graph, dock trees.

:meth:`PreparedAirspace.build` is the expensive step (seconds for large airspaces):
the visibility graph of the obstacles and a shortest-path tree from every dock that
can launch. The planner caches the result by the obstacles' content hash.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from dfr.geo.airspace import ObstacleSet
from dfr.geo.frame import LocalFrame
from dfr.planning.visibility import PathTree, VisibilityGraph
from dfr.site import Dock

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class PreparedAirspace:
    """The compiled obstacles, their visibility graph and the dock trees, for one airspace state."""

    obstacles: ObstacleSet
    graph: VisibilityGraph
    dock_trees: dict[str, PathTree]  # only docks outside every zone: the others cannot launch

    @classmethod
    def build(
        cls, obstacles: ObstacleSet, frame: LocalFrame, docks: Iterable[Dock]
    ) -> PreparedAirspace:
        """The graph of ``obstacles`` and a tree from each dock that is not inside one."""
        graph = VisibilityGraph(obstacles.polygons)
        prepared = cls(obstacles, graph, {})
        for dock in docks:
            xy = frame.to_xy(dock.lat, dock.lon)
            if graph.point_free(xy):
                prepared.dock_trees[dock.id] = graph.tree_from(xy)
            else:
                logger.warning(
                    "dock %s is inside a zone at cruise altitude: it cannot launch", dock.id
                )
        logger.info(
            "planner ready: %d obstacles, %d nodes, %d edges (hash %s)",
            len(obstacles.polygons),
            graph.n_nodes,
            graph.n_edges,
            obstacles.content_hash,
        )
        return prepared
