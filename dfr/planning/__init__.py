"""Route planning: exact shortest legal paths, flight profile, mission and geofence.

The service uses :class:`dfr.planning.planner.Planner` (see its module docstring), a
facade over :mod:`~dfr.planning.airspace_rules` (what is legal where),
:mod:`~dfr.planning.prepared` (the compiled airspace), :mod:`~dfr.planning.scene`
(scene point and route assembly), :mod:`~dfr.planning.candidates` (ranking) and
:mod:`~dfr.planning.home` (the way home). :mod:`dfr.planning.visibility` (with
:mod:`~dfr.planning.tangent_nodes`) is the geometric core, :mod:`dfr.planning.wind` and
:mod:`dfr.planning.profile` the ETA / energy model, :mod:`dfr.planning.mission` and
:mod:`dfr.planning.geofence` what is uploaded to the vehicle.

Pure: no asyncio, FastAPI, MAVSDK or pymavlink.
"""
