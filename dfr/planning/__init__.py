"""Route planning: exact shortest legal paths, flight profile, mission and geofence.

The service uses :class:`dfr.planning.planner.Planner` (see its module docstring);
:mod:`dfr.planning.visibility` is the geometric core, :mod:`dfr.planning.wind` and
:mod:`dfr.planning.profile` the ETA / energy model, :mod:`dfr.planning.mission` and
:mod:`dfr.planning.geofence` what is uploaded to the vehicle.

Pure: no asyncio, FastAPI, MAVSDK or pymavlink.
"""
