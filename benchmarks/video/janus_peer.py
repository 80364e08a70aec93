"""The Janus WebRTC gateway (Debian package ``janus``) as the peer in the video benchmark:
its streaming plugin with one RTP mountpoint (H.264, the camera's RTP as it is) and its
HTTP transport, both on 127.0.0.1 only, configured in a temporary directory.

``videobufferkf`` is on, so a new viewer gets the last keyframe at once (Janus' best case
for first-frame time, like dfr replaying the current GOP).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

JANUS_BIN = "/usr/bin/janus"
JANUS_LIB = Path("/usr/lib/x86_64-linux-gnu/janus")
MOUNTPOINT_ID = 1
STARTUP_TIMEOUT_S = 20.0


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True, slots=True)
class RunningJanus:
    pid: int
    http_url: str  # …/janus
    rtp_port: int  # where the mountpoint takes the camera's RTP
    mountpoint_id: int
    log_path: Path


def janus_available() -> str | None:
    """None if Janus can run here, else why not."""
    if shutil.which(JANUS_BIN) is None:
        return "janus is not installed (apt-get install -y janus)"
    if not (JANUS_LIB / "plugins" / "libjanus_streaming.so").exists():
        return "the Janus streaming plugin is missing"
    return None


def _write_config(directory: Path, http_port: int, rtp_port: int, rtp_range: str) -> None:
    plugins_off = ",".join(
        p.name for p in (JANUS_LIB / "plugins").glob("*.so") if p.name != "libjanus_streaming.so"
    )
    transports_off = ",".join(
        p.name for p in (JANUS_LIB / "transports").glob("*.so") if p.name != "libjanus_http.so"
    )
    (directory / "janus.jcfg").write_text(f"""
general: {{
  configs_folder = "{directory}"
  plugins_folder = "{JANUS_LIB / "plugins"}"
  transports_folder = "{JANUS_LIB / "transports"}"
  events_folder = "{JANUS_LIB / "events"}"
  loggers_folder = "{JANUS_LIB / "loggers"}"
  debug_level = 3
}}
certificates: {{}}
media: {{ rtp_port_range = "{rtp_range}" }}
nat: {{ nice_debug = false, ice_enforce_list = "lo" }}
plugins: {{ disable = "{plugins_off}" }}
transports: {{ disable = "{transports_off}" }}
loggers: {{ disable = "libjanus_jsonlog.so" }}
events: {{ broadcast = false }}
""")
    (directory / "janus.transport.http.jcfg").write_text(f"""
general: {{ json = "plain", base_path = "/janus", http = true, port = {http_port},
           ip = "127.0.0.1", https = false }}
admin: {{ admin_http = false, admin_https = false }}
cors: {{}}
""")
    (directory / "janus.plugin.streaming.jcfg").write_text(f"""
general: {{}}
dfr-camera: {{
  type = "rtp"
  id = {MOUNTPOINT_ID}
  description = "dfr simulated camera (same RTP as the dfr relay)"
  audio = false
  video = true
  videoport = {rtp_port}
  videoiface = "127.0.0.1"
  videopt = 96
  videocodec = "h264"
  videofmtp = "profile-level-id=42e01f;packetization-mode=1"
  videobufferkf = true
}}
""")


@asynccontextmanager
async def running_janus(workdir: Path | None = None) -> AsyncIterator[RunningJanus]:
    """Janus on 127.0.0.1 until the block ends (terminated, then killed if it lingers)."""
    with tempfile.TemporaryDirectory(prefix="dfr-janus-") as tmp:
        directory = workdir or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        http_port = free_port(socket.SOCK_STREAM)
        rtp_port = free_port(socket.SOCK_DGRAM)
        base = free_port(socket.SOCK_DGRAM) // 100 * 100
        low = min(max(base, 20000), 60000)
        _write_config(directory, http_port, rtp_port, f"{low}-{low + 400}")
        log_path = directory / "janus.log"
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                JANUS_BIN, "--configs-folder", str(directory), "--config",
                str(directory / "janus.jcfg"), "--disable-colors",
                stdout=log, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        url = f"http://127.0.0.1:{http_port}/janus"
        try:
            async with httpx.AsyncClient() as client:
                async with asyncio.timeout(STARTUP_TIMEOUT_S):
                    while True:
                        if process.returncode is not None:
                            raise RuntimeError(
                                f"janus exited ({process.returncode}): "
                                + log_path.read_text(errors="replace")[-2000:]
                            )
                        try:
                            if (await client.get(f"{url}/info")).status_code == 200:
                                break
                        except httpx.TransportError:
                            pass
                        await asyncio.sleep(0.1)
            yield RunningJanus(process.pid, url, rtp_port, MOUNTPOINT_ID, log_path)
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 10)
                except TimeoutError:
                    process.kill()
                    await process.wait()
