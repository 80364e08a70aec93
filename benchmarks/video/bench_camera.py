"""Simulated camera cost: CPU per frame (render + x264 encode + RTP packetize) by size.

    .venv/bin/python benchmarks/video/bench_camera.py [--frames 60]

Runs the camera's frame path in this thread (no sending) and prints CPU milliseconds per
frame and the share of one core that 30 fps would take.
"""

from __future__ import annotations

import argparse
import json
import time

from sitl.camera import SimCamera, circling_pose

SIZES_PX = ((1280, 720), (960, 540), (640, 360), (320, 240))


def measure(width: int, height: int, frames: int) -> dict[str, float]:
    pose = circling_pose()
    camera = SimCamera("bench", pose, ("127.0.0.1", 9), width=width, height=height)
    camera._next_packets(pose())  # opens the encoder, builds the ground texture
    render_s = 0.0
    start = time.process_time()
    for _ in range(frames):
        camera._next_packets(pose())
    total_s = time.process_time() - start
    render_start = time.process_time()
    for _ in range(frames):
        camera._renderer.render(pose(), 0)
    render_s = time.process_time() - render_start
    per_frame_ms = total_s / frames * 1000
    return {
        "cpu_ms_per_frame": round(per_frame_ms, 2),
        "render_ms_per_frame": round(render_s / frames * 1000, 2),
        "pct_core_at_30fps": round(per_frame_ms * 30 / 10, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=60)
    args = parser.parse_args()
    results = {f"{w}x{h}": measure(w, h, args.frames) for w, h in SIZES_PX}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
