"""What a simulated vehicle is and where it talks: value types shared by fleet and vehicle.

A :class:`VehicleSpec` carries what PX4 SITL takes from its environment: the instance,
the home (``PX4_HOME_LAT``/``LON``/``ALT``), the airframe (``PX4_SYS_AUTOSTART``),
parameter overrides (``PX4_PARAM_*``; ``MAV_SYS_ID`` among them gives the vehicle another
system id than instance + 1) and the MAVLink 2 signing key (PX4 keeps it on the SD card). Nothing here knows about the service's sites.

Re-exported by :mod:`sitl.fleet`, which is where callers import them from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sitl.airframe import DEFAULT_AIRFRAME


@dataclass(frozen=True, slots=True)
class PortPlan:
    gcs_local_base: int = 18570  # vehicle i binds gcs_local_base+i ...
    gcs_remote: int = 14550  # ... and sends to host:gcs_remote until it hears from someone
    api_local_base: int = 14580  # vehicle i binds api_local_base+i ...
    api_remote_base: int = 14540  # ... and sends to host:api_remote_base+i
    video_base: int = 5600  # camera of vehicle i sends RTP to host:video_base+i
    host: str = "127.0.0.1"  # where to send before first receive; sockets bind host too
    # PX4's px4-rc.mavlink sends the API link of every instance >= 9 to 14549 (one shared
    # port, clients tell vehicles apart by sysid). None (default) keeps api_remote_base+i
    # for every instance, which from instance 10 on reaches the GCS port (Fleet warns).
    api_remote_shared_from: int | None = None

    def shifted(self, offset: int) -> PortPlan:
        """Every port + ``offset``."""
        return PortPlan(
            gcs_local_base=self.gcs_local_base + offset,
            gcs_remote=self.gcs_remote + offset,
            api_local_base=self.api_local_base + offset,
            api_remote_base=self.api_remote_base + offset,
            video_base=self.video_base + offset,
            host=self.host,
            api_remote_shared_from=self.api_remote_shared_from,
        )

    def api_remote(self, instance: int) -> int:
        """Where vehicle ``instance`` sends its API (ONBOARD) link before it hears a client."""
        shared = self.api_remote_shared_from
        if shared is not None and instance >= shared:
            return self.api_remote_base + shared
        return self.api_remote_base + instance


SIGNING_KEY_BYTES = 32


def parse_signing_key(text: str) -> bytes:
    """A MAVLink 2 signing key written as 64 hex digits (ValueError otherwise)."""
    try:
        key = bytes.fromhex(text.strip())
    except ValueError as exc:
        raise ValueError("a signing key is 64 hex digits (32 bytes)") from exc
    if len(key) != SIGNING_KEY_BYTES:
        raise ValueError(f"a signing key is 32 bytes (64 hex digits), got {len(key)} bytes")
    return key


@dataclass(frozen=True, slots=True)
class VehicleSpec:
    instance: int  # 0-based; MAV_SYS_ID = instance + 1 unless params set MAV_SYS_ID
    home_lat_deg: float
    home_lon_deg: float
    home_alt_amsl_m: float  # ground altitude at home (the vehicle starts landed there)
    name: str = ""
    # what it is, as PX4 gets it from PX4_SYS_AUTOSTART / PX4_SIM_MODEL: an airframe file's
    # ``param set-default`` lines (a name in sitl/airframes/, or a path; sitl.airframe)
    airframe: str | Path = DEFAULT_AIRFRAME
    # PX4 parameter overrides, applied after the airframe (as PX4_PARAM_<NAME> env is)
    params: Mapping[str, float | int] = field(default_factory=dict)
    # MAVLink 2 signing (PX4 with a key provisioned): every message sent is signed, and only
    # signed messages are taken (but RADIO_STATUS, which a radio modem inserts unsigned)
    signing_key: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.signing_key is not None and len(self.signing_key) != SIGNING_KEY_BYTES:
            raise ValueError(f"signing_key must be {SIGNING_KEY_BYTES} bytes")
