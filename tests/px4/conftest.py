"""Tests that fly real PX4 SITL are marked ``px4``: they run where a PX4 build is present
(``DFR_PX4_BUILD_DIR``, see the README's "Real PX4 SITL"), and say why they do not where
it is not. The PX4-rule tests run against the simulator everywhere."""

from __future__ import annotations

import pytest

from tests.px4.px4_sitl import BUILD_DIR_ENV, build_dir

NO_PX4 = (
    f"no PX4 SITL build: set {BUILD_DIR_ENV} to a px4_sitl_default build directory "
    "(README: Real PX4 SITL)"
)


# A PX4 test may wait for another process's PX4 fleet first (PX4's ports are fixed; see
# px4_sitl.FLEET_LOCK): its timeout covers that wait too.
PX4_TIMEOUT_S = 900


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if build_dir() is not None:
        for item in items:
            if item.get_closest_marker("px4") is not None:
                item.add_marker(pytest.mark.timeout(PX4_TIMEOUT_S))
        return
    for item in items:
        if item.get_closest_marker("px4") is not None:
            item.add_marker(pytest.mark.skip(reason=NO_PX4))


BACKENDS = ["sim", pytest.param("px4", marks=pytest.mark.px4)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
