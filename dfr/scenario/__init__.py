"""``dfr scenario run``: SITL scenario files (``sitl/scenarios/*.yaml``) run against the
service and the simulated fleet (or a running service), checked, and reported.

Modules: :mod:`~dfr.scenario.scenario_file` (the file, its JSON Schema, errors naming the
line), :mod:`~dfr.scenario.site_copy`, :mod:`~dfr.scenario.rig_processes`,
:mod:`~dfr.scenario.link_relay`, :mod:`~dfr.scenario.vehicle_faults`,
:mod:`~dfr.scenario.service_view`, :mod:`~dfr.scenario.timeline`,
:mod:`~dfr.scenario.expectations`, :mod:`~dfr.scenario.report_data`,
:mod:`~dfr.scenario.report_picture`, :mod:`~dfr.scenario.report_page`,
:mod:`~dfr.scenario.scenario_run` (one run, end to end), :mod:`~dfr.scenario.progress`
and :mod:`~dfr.scenario.scenario_cli`.
"""
