"""``recordings_playable`` decodes a recording whole with PyAV: a real MP4 plays (its
frames counted), a file cut short or not a video at all does not, saying why."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from dfr.scenario.recording_playback import Playback, decode

FRAMES = 20


def write_mp4(path: Path) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.time_base = Fraction(1, 10)
        for i in range(FRAMES):
            picture = np.full((48, 64, 3), i * 10, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def test_a_real_recording_plays_and_its_frames_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "r.mp4"
    write_mp4(path)
    frames, duration_s, error = decode(path)
    assert (frames, error) == (FRAMES, "")
    assert 1.5 <= duration_s <= 2.5
    assert Playback("f", 1, 200, path.stat().st_size, frames, duration_s, error).played


def test_a_file_that_is_not_a_video_or_cut_short_does_not_play(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not an mp4 at all" * 100)
    frames, _duration_s, error = decode(junk)
    assert frames == 0 and error.startswith("does not decode")
    whole = tmp_path / "whole.mp4"
    write_mp4(whole)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 3])
    frames, _duration_s, error = decode(cut)  # its index (moov) was never written
    assert frames == 0 and error.startswith("does not decode")
    assert not Playback("f", 1, 200, 0, frames, 0.0, error).played
