// What the viewer measures, also exposed as window.dfrViewer for tests and benchmarks:
// frames shown, the latest glass-to-glass latency (capture time from the frame's SEI to the
// frame handed to the compositor, same machine clock), and the time to the first frame.

const MAX_SAMPLES = 20_000;

export class ViewerStats {
  constructor(mode) {
    this.mode = mode;
    this.state = "connecting";
    this.framesShown = 0;
    this.latencyMs = null;
    this.latencySamplesMs = [];
    this.connectStartedMs = null; // performance.now() when the current connection started
    this.firstFrameMs = null; // connect → first frame shown, for the first connection
    this.firstFrameMsHistory = [];
    this.connects = 0;
    this.errors = [];
    this.videoOpen = false; // the video socket is open now
  }

  connecting() {
    this.connects += 1;
    this.connectStartedMs = performance.now();
    this.awaitingFirstFrame = true;
  }

  /** A frame reached the screen; ``captureMs`` since the epoch or null if unknown. */
  shown(captureMs, shownAtEpochMs) {
    this.framesShown += 1;
    if (this.awaitingFirstFrame && this.connectStartedMs !== null) {
      const ms = performance.now() - this.connectStartedMs;
      this.firstFrameMsHistory.push(ms);
      if (this.firstFrameMs === null) this.firstFrameMs = ms;
      this.awaitingFirstFrame = false;
    }
    if (captureMs === null || captureMs === undefined) return;
    this.latencyMs = shownAtEpochMs - captureMs;
    if (this.latencySamplesMs.length >= MAX_SAMPLES) this.latencySamplesMs.shift();
    this.latencySamplesMs.push(this.latencyMs);
  }
}
