"""Live video: ingest, fMP4 fragmenting, fan-out to viewers, recording, snapshots.

The pipeline for one drone (all on the event loop except where noted)::

    camera ──RTP/H.264 over UDP──► ingest.UdpRtpIngest ──► rtp.H264Depacketizer
    (or RTSP ─► ingest.PyAvIngest, a thread)                 │ access unit on the marker bit
                                                             ▼
                      hub.VideoHub.publish(unit) ── builds one MediaFrame per unit:
                        │   fmp4.media_fragment (moof+mdat) and a timestamped Annex-B unit
                        ├─► Subscription (bounded queue) ─► websocket.serve_viewer ─► viewer
                        ├─► Subscription ...                (codec JSON, init segment, frames)
                        └─► (relay.DroneVideo) recorder.Recorder ─► fragmented MP4 (thread, remux only)

Nothing on the hot path transcodes or waits for a viewer. Each frame is also framed once as
a websocket message; ``publish`` writes it straight to the socket of every viewer whose
queue is empty (``websocket.TransportWriter``: one ``transport.write`` per viewer), and
only viewers that are behind go through their queue and their own task.

``relay.DroneVideo`` is the one object the service holds per drone::

    async with DroneVideo("drone-1", "rtp://127.0.0.1:5600") as video:
        await serve_websocket(websocket, video.hub, fmt=VideoFormat.FMP4)
        video.start_recording(path); info = await video.stop_recording()
        jpeg = await video.snapshot_jpeg()

``recordings.FlightRecordings`` is what the service calls per flight: a segment row stored
when recording starts, completed (SHA-256) at close, recovered at the next start after a
crash.

Latency can be measured anywhere: frames from ``sitl.camera`` carry their capture time in
an SEI (``h264.CAPTURE_TIME_UUID``), surfaced as ``MediaFrame.capture_time_us`` and in the
Annex-B header.
"""
