"""A simulated PX4 multicopter fleet that MAVSDK and QGroundControl take for PX4 SITL.

Start one with ``dfr sim`` (:mod:`sitl.runner`) or in-process with
``async with Fleet(specs, ports=..., speed_factor=...)`` (:mod:`sitl.fleet`).

A vehicle is what its PX4 airframe file says (``sitl/airframes/``, read by
:mod:`~sitl.airframe`; default ``sihsim_quadx``, PX4's SIH quad) over PX4's parameter
defaults, plus its spec's parameter overrides. The package stands alone: it imports
nothing from the service.

Modules: :mod:`~sitl.spec` (VehicleSpec, PortPlan), :mod:`~sitl.fleet` (one tick task for
all vehicles), :mod:`~sitl.vehicle` (composes one vehicle's parts: physics step, MAVLink
dispatch), :mod:`~sitl.state` (the vehicle state its parts share; a leaf), the parts —
:mod:`~sitl.commander` (arming, mode changes; handlers in :mod:`~sitl.flight_commands` and
:mod:`~sitl.system_commands`, shared types in :mod:`~sitl.commands`),
:mod:`~sitl.land_detector`, :mod:`~sitl.failsafe`, :mod:`~sitl.navigator` (takeoff, hold,
land; :mod:`~sitl.rtl`, :mod:`~sitl.orbit`, :mod:`~sitl.mission_flight`,
:mod:`~sitl.mission_check`), :mod:`~sitl.mission_transfer` (mission/fence/rally protocol;
item rules in :mod:`~sitl.plan_items`), :mod:`~sitl.param_server`, :mod:`~sitl.streams`
(rates) and :mod:`~sitl.telemetry` (messages) — which call back only through the narrow
protocols of :mod:`~sitl.outbox`, :mod:`~sitl.pilot` and :mod:`~sitl.commands`;
:mod:`~sitl.link` (UDP + pymavlink codec), :mod:`~sitl.modes`, :mod:`~sitl.params`,
:mod:`~sitl.motion` (with :mod:`~sitl.dynamics`, :mod:`~sitl.wind`), :mod:`~sitl.battery`,
:mod:`~sitl.geofence`, :mod:`~sitl.frame`, :mod:`~sitl.probe` (a pymavlink ground station
for tests and benchmarks). ``sitl/camera*.py`` is the simulated video camera
(:mod:`~sitl.camera_view` draws its picture), :mod:`~sitl.rtp_h264` its own RTP/H.264
packetizer.

Time model: physics, battery and the vehicle's own timers run on vehicle time
(``speed_factor`` × real time, like ``PX4_SIM_SPEED_FACTOR``); MAVLink protocol timing
(stream rates, heartbeats, mission retries/timeouts, ``COM_DL_LOSS_T``) stays real time.
Deviations from PX4 SITL are listed in the module docstrings (stream rates in
:mod:`~sitl.streams`, battery in :mod:`~sitl.battery`/:mod:`~sitl.params`, opaque ids in
:mod:`~sitl.mission_transfer`).
"""
