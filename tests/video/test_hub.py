"""The fan-out hub with real H.264 units: late joiners, slow viewers, state, timeline."""

from __future__ import annotations

import itertools
import struct

from dfr.video.hub import (
    ANNEXB_HEADER,
    CodecInfo,
    MediaFrame,
    StateChange,
    StreamState,
    Subscription,
    VideoHub,
)
from dfr.video.rtp import AccessUnit
from tests.video.conftest import FRAME_STEP
from tests.video.mp4_read import decode_fmp4, read_fragment


def drain(sub: Subscription) -> list[object]:
    items: list[object] = []
    while sub.queued_frames or sub._items:
        items.append(sub._items.popleft())
        if isinstance(items[-1], MediaFrame):
            sub._frames -= 1
    return items


def frames_of(items: list[object]) -> list[MediaFrame]:
    return [item for item in items if isinstance(item, MediaFrame)]


def test_late_joiner_gets_codec_init_and_the_current_gop_decodable(units: list[AccessUnit]) -> None:
    hub = VideoHub("d1")
    for unit in units[:25]:  # keyframes at 0, 10, 20
        hub.publish(unit)
    items = drain(hub.subscribe())
    assert isinstance(items[0], CodecInfo)
    assert items[0].codec.startswith("avc1.") and (items[0].width_px, items[0].height_px) == (
        160,
        128,
    )
    frames = frames_of(items)
    assert [f.index for f in frames] == list(range(21, 26))
    assert frames[0].keyframe and not any(f.keyframe for f in frames[1:])
    decoded = decode_fmp4(items[0].init_segment, [f.fragment for f in frames])
    assert len(decoded) == 5
    assert (decoded[0].width, decoded[0].height) == (160, 128)


def test_fragments_carry_timeline_flags_and_capture_time(units: list[AccessUnit]) -> None:
    hub = VideoHub("d1")
    frames = [f for f in (hub.publish(u) for u in units[:12]) if f is not None]
    fragments = [read_fragment(f.fragment) for f in frames]
    assert [f.decode_time for f in fragments] == [i * FRAME_STEP for i in range(12)]
    assert [f.sync for f in fragments] == [i % 10 == 0 for i in range(12)]
    assert [f.capture_time_us for f in fragments] == [1_000_000 + i for i in range(12)]
    assert all(f.duration == FRAME_STEP for f in fragments)
    timestamp_us, flags, capture_us = ANNEXB_HEADER.unpack_from(frames[10].annexb)
    assert (timestamp_us, flags, capture_us) == (10 * FRAME_STEP * 1000 // 90, 1, 1_000_010)
    assert frames[10].annexb[ANNEXB_HEADER.size :].startswith(b"\x00\x00\x00\x01\x67")


def test_slow_viewer_is_skipped_to_a_keyframe_and_fast_viewer_gets_everything(
    units: list[AccessUnit],
) -> None:
    hub = VideoHub("d1")
    hub.publish(units[0])
    fast, slow = hub.subscribe(max_frames=100), hub.subscribe(max_frames=6)
    received_fast: list[MediaFrame] = []
    for unit in units[1:33]:  # keyframes are indices 1, 11, 21, 31
        hub.publish(unit)
        received_fast += frames_of(drain(fast))
        assert slow.queued_frames <= 6
    assert [f.index for f in received_fast] == list(range(1, 34))  # GOP replay + live
    slow_frames = frames_of(drain(slow))
    assert slow.skips > 0 and slow.skipped_frames > 0
    assert [f.index for f in slow_frames] == [31, 32, 33]
    assert slow_frames[0].keyframe
    # no timestamp gap except at a keyframe
    for before, after in itertools.pairwise(slow_frames):
        assert after.index == before.index + 1 or after.keyframe


def test_skip_keeps_the_newest_queued_keyframe(units: list[AccessUnit]) -> None:
    hub = VideoHub("d1")
    sub = hub.subscribe(max_frames=100)
    for unit in units[:15]:
        hub.publish(unit)
    assert sub.skip_to_keyframe() is True
    frames = frames_of(drain(sub))
    assert frames[0].keyframe and frames[0].index == 11 and len(frames) == 5


def test_state_changes_reach_viewers_and_new_viewers_see_current_state(
    units: list[AccessUnit],
) -> None:
    hub = VideoHub("d1")
    early = hub.subscribe()
    assert drain(early) == [StateChange(StreamState.WAITING)]
    hub.publish(units[0])
    assert hub.state is StreamState.LIVE
    hub.set_state(StreamState.LOST)
    late = hub.subscribe()
    late_items = drain(late)
    assert isinstance(late_items[0], CodecInfo) and StateChange(StreamState.LOST) in late_items
    hub.publish(units[1])
    items = drain(early)
    states = [item.state for item in items if isinstance(item, StateChange)]
    assert states == [StreamState.LIVE, StreamState.LOST, StreamState.LIVE]


def test_timeline_stays_continuous_when_the_source_restarts(units: list[AccessUnit]) -> None:
    hub = VideoHub("d1")
    first = [hub.publish(u) for u in units[:10]]
    restarted = [
        AccessUnit(u.nals, (0xFFFF0000 + i * FRAME_STEP) & 0xFFFFFFFF, u.keyframe)
        for i, u in enumerate(units[10:20])
    ]  # new random RTP offset, wrapping past 2**32
    second = [hub.publish(u) for u in restarted]
    times = [f.decode_time for f in first + second if f is not None]
    assert times == [i * FRAME_STEP for i in range(20)]


def test_unsubscribe_on_exit(units: list[AccessUnit]) -> None:
    hub = VideoHub("d1")
    with hub.subscribe():
        assert hub.viewer_count == 1
    assert hub.viewer_count == 0
    assert struct.calcsize(">QBQ") == ANNEXB_HEADER.size == 17


def test_no_hole_in_the_timeline_after_a_loss(units: list[AccessUnit]) -> None:
    hub = VideoHub("d1")
    hub.publish(units[0])
    hub.publish(units[1])
    hub.set_state(StreamState.LOST)
    three_s_later = AccessUnit(units[2].nals, units[1].rtp_timestamp + 3 * 90_000, False)
    frame = hub.publish(three_s_later)
    assert frame is not None and frame.decode_time == 2 * FRAME_STEP
    assert hub.state is StreamState.LIVE
