"""The vehicle clock maps a wall instant to the vehicle's time then, so a vehicle that
runs slower than real time is measured on its own seconds (issue 8: PX4 SIH at 0.93 of
real time made planned-vs-flown look 7 % slow when the clock read wall time)."""

from __future__ import annotations

import pytest

from tests.px4.vehicle_clock import VehicleClock


def _clock_running_at(rate: float, wall_s: float, step_s: float = 0.25) -> VehicleClock:
    clock = VehicleClock()
    t = 0.0
    while t <= wall_s:
        clock.stamp(100.0 + t, 5.0 + t * rate)
        t += step_s
    return clock


def test_a_slow_vehicle_is_measured_on_its_own_seconds() -> None:
    clock = _clock_running_at(0.9, wall_s=200.0)
    flown_s = clock.at(100.0 + 180.0, speed=1.0) - clock.at(100.0 + 20.0, speed=1.0)
    assert flown_s == pytest.approx(160.0 * 0.9, abs=0.01)


def test_between_stamps_it_interpolates_and_past_them_it_extrapolates_at_speed() -> None:
    clock = VehicleClock()
    clock.stamp(10.0, 1.0)
    clock.stamp(11.0, 1.5)
    assert clock.at(10.5, speed=1.0) == pytest.approx(1.25)
    assert clock.at(13.0, speed=2.0) == pytest.approx(5.5)
    assert clock.at(9.0, speed=1.0) == pytest.approx(0.0)


def test_stamps_closer_than_the_interval_are_dropped_and_a_reboot_starts_afresh() -> None:
    clock = VehicleClock()
    clock.stamp(10.0, 100.0)
    clock.stamp(10.05, 100.05)
    assert clock.boot_s == [100.0]
    clock.stamp(20.0, 2.0)  # boot time went back: rebooted
    assert clock.boot_s == [2.0]
    assert clock.at(21.0, speed=1.0) == pytest.approx(3.0)
