"""The simulated camera with its capture time also drawn into the picture, fanned out.

    python benchmarks/video/stamp_camera.py --to 127.0.0.1:5600 --to 127.0.0.1:5700 \
        [--width 640 --height 360 --fps 30]

WebRTC gateways drop H.264 SEI, so a glass-to-glass figure that also covers Janus needs the
time *in the pixels*: the bottom ``STRIP_PX`` rows carry the capture time in milliseconds
since the epoch, modulo 2**40, as ``STAMP_BITS`` black/white blocks (most significant bit
first, white = 1), the same instant the camera writes into its SEI. A browser reads it back
from the frame on screen (``benchmarks/video/glass_page/stamp.js``).

Every RTP packet goes to each ``--to`` address in turn (a UDP tee in this process), so dfr,
Janus and the in-process relay probe all get the SAME packets; the tee's cost is the same
for every receiver but for the order of the ``sendto`` calls (microseconds).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import socket

import numpy as np
import numpy.typing as npt

from sitl.camera import CameraPose, SimCamera, _Renderer, circling_pose

STAMP_BITS = 40
STRIP_PX = 16


def draw_stamp(
    picture: npt.NDArray[np.uint8], width_px: int, height_px: int, capture_time_us: int
) -> None:
    """Write the capture time (ms mod 2**40) into the bottom strip of a YUV 4:2:0 picture."""
    value_ms = (capture_time_us // 1000) % (1 << STAMP_BITS)
    block_px = width_px // STAMP_BITS
    luma = picture[height_px - STRIP_PX : height_px]
    luma[:] = 16
    for bit in range(STAMP_BITS):
        if value_ms >> (STAMP_BITS - 1 - bit) & 1:
            luma[:, bit * block_px : (bit + 1) * block_px] = 235
    quarter = height_px * width_px // 4
    chroma_rows = slice((height_px - STRIP_PX) // 2, height_px // 2)
    for plane_start in (height_px * width_px, height_px * width_px + quarter):  # U, V
        plane = picture.reshape(-1)[plane_start : plane_start + quarter]
        plane.reshape(height_px // 2, width_px // 2)[chroma_rows] = 128  # grey: no colour


class _StampRenderer(_Renderer):
    def render(self, pose: CameraPose, capture_time_us: int) -> npt.NDArray[np.uint8]:
        picture = super().render(pose, capture_time_us)
        draw_stamp(picture, self._width_px, self._height_px, capture_time_us)
        return picture


class StampCamera(SimCamera):
    """``SimCamera`` whose frames also carry the capture time as pixels."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._renderer = _StampRenderer(self.label, self.width_px, self.height_px)


class Tee(asyncio.DatagramProtocol):
    """Forwards each datagram to every destination."""

    def __init__(self, destinations: list[tuple[str, int]]) -> None:
        self.destinations = destinations
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram endpoint's

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        assert self.transport is not None
        for destination in self.destinations:
            self.transport.sendto(data, destination)


async def run(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    destinations = [(host, int(port)) for host, port in (to.rsplit(":", 1) for to in args.to)]
    transport, _ = await loop.create_datagram_endpoint(
        lambda: Tee(destinations), local_addr=("127.0.0.1", 0), family=socket.AF_INET
    )
    tee_port = int(transport.get_extra_info("sockname")[1])
    camera = StampCamera(
        args.label, circling_pose(), ("127.0.0.1", tee_port),
        width=args.width, height=args.height, fps=args.fps,
        keyframe_interval_s=args.keyframe_interval,
    )  # fmt: skip
    try:
        await camera.run()
    finally:
        transport.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--to", action="append", required=True, help="HOST:PORT (repeat)")
    parser.add_argument("--label", default="fw1")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--keyframe-interval", type=float, default=0.5, help="seconds")
    args = parser.parse_args()
    if args.width % STAMP_BITS:
        parser.error(f"--width must be a multiple of {STAMP_BITS} (one block per bit)")
    logging.basicConfig(level=logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
