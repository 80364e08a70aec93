"""A simulated PX4 multicopter fleet that MAVSDK and QGroundControl take for PX4 SITL.

Start one with ``dfr sim`` (:mod:`sitl.runner`) or in-process with
``async with Fleet(specs, ports=..., speed_factor=...)`` (:mod:`sitl.fleet`).

A vehicle is what its PX4 airframe file says (``sitl/airframes/``, read by
:mod:`~sitl.airframe`; default ``sihsim_quadx``, PX4's SIH quad) over PX4's parameter
defaults, plus its spec's parameter overrides. The package stands alone: it imports
nothing from the service.

Modules: :mod:`~sitl.spec` (VehicleSpec, PortPlan), :mod:`~sitl.fleet` (one tick task for
all vehicles), :mod:`~sitl.vehicle` (state, physics step, MAVLink dispatch, parameter
protocol), :mod:`~sitl.link` (UDP + pymavlink codec), :mod:`~sitl.streams` (telemetry
messages and rates), :mod:`~sitl.commander` (commands, arming, failsafes),
:mod:`~sitl.navigator` (takeoff, hold, land, RTL, orbit, mission execution),
:mod:`~sitl.mission_transfer` (mission/fence/rally protocol), :mod:`~sitl.modes`,
:mod:`~sitl.params`, :mod:`~sitl.motion`, :mod:`~sitl.battery`, :mod:`~sitl.geofence`,
:mod:`~sitl.frame`, :mod:`~sitl.probe` (a pymavlink ground station for tests and
benchmarks). ``sitl/camera*.py`` is the simulated video camera, :mod:`~sitl.rtp_h264` its
own RTP/H.264 packetizer.

Time model: physics, battery and the vehicle's own timers run on vehicle time
(``speed_factor`` × real time, like ``PX4_SIM_SPEED_FACTOR``); MAVLink protocol timing
(stream rates, heartbeats, mission retries/timeouts, ``COM_DL_LOSS_T``) stays real time.
Deviations from PX4 SITL are listed in the module docstrings (stream rates in
:mod:`~sitl.streams`, battery in :mod:`~sitl.battery`/:mod:`~sitl.params`, opaque ids in
:mod:`~sitl.mission_transfer`).
"""
