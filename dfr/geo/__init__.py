"""Geography of a site: the local metric frame and the airspace.

* :mod:`dfr.geo.frame` — :class:`LocalFrame` (azimuthal equidistant, pyproj, metres)
* :mod:`dfr.geo.zone` — :class:`Zone`, :class:`ZoneKind`, :class:`AltitudeDatum`, time windows
* :mod:`dfr.geo.airspace` — :class:`Airspace`: zones in the frame, obstacles per altitude
  band (buffered, unioned, outward-simplified, hashed), violations, GeoJSON for the map
* :mod:`dfr.geo.geojson`, :mod:`dfr.geo.qgc_plan` — loaders (files read by
  :mod:`dfr.geo.json_file`); :mod:`dfr.geo.site_airspace`
  reads a whole site directory

Pure: no asyncio, FastAPI, MAVSDK or pymavlink.
"""
