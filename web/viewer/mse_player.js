// Media Source Extensions path: the relay's fMP4 (init segment, then one moof+mdat per
// frame). Before each fragment is appended its SEI capture time is read and kept under its
// decode time; requestVideoFrameCallback's mediaTime names the frame on screen (no B-frames:
// decode time = presentation time). The relay's timeline does not start at zero, so the
// player seeks to the start of what is buffered, and stays near the live edge.

import { readFragment } from "./sei.js";

const TIMESCALE_HZ = 90_000;
const MAX_BEHIND_S = 0.5; // further behind the newest frame than this: jump to the edge
const KEEP_BEHIND_S = 10; // buffered history kept behind the playhead
// A new viewer starts at the replayed keyframe (up to a GOP old): play faster until near
// the edge, with hysteresis so the rate does not flap.
const CATCH_UP_ABOVE_S = 0.15;
const CAUGHT_UP_BELOW_S = 0.08;
const CATCH_UP_RATE = 1.5;

export class MsePlayer {
  constructor(video, stats) {
    this.video = video;
    this.stats = stats;
    this.mediaSource = null;
    this.buffer = null;
    this.queue = [];
    this.needInit = false;
    this.captureByMs = new Map();
    this.started = false;
    this.watchFrames();
  }

  static supported() {
    return typeof MediaSource !== "undefined";
  }

  /** A codec message: a new source buffer; the next binary message is the init segment. */
  codec(msg) {
    this.reset();
    const mime = `video/mp4; codecs="${msg.codec}"`;
    if (!MediaSource.isTypeSupported(mime)) throw new Error(`this browser cannot play ${mime}`);
    const mediaSource = new MediaSource();
    this.mediaSource = mediaSource;
    this.needInit = true;
    this.video.src = URL.createObjectURL(mediaSource);
    mediaSource.addEventListener("sourceopen", () => {
      if (this.mediaSource !== mediaSource) return;
      URL.revokeObjectURL(this.video.src);
      mediaSource.duration = Infinity;
      this.buffer = mediaSource.addSourceBuffer(mime);
      this.buffer.mode = "segments";
      this.buffer.addEventListener("updateend", () => this.afterAppend());
      this.pump();
    }, { once: true });
  }

  media(data) {
    const bytes = new Uint8Array(data);
    if (this.needInit) {
      this.needInit = false;
    } else {
      const { decodeTime, captureMs } = readFragment(bytes);
      if (decodeTime !== null && captureMs !== null) {
        this.captureByMs.set(Math.round((decodeTime * 1000) / TIMESCALE_HZ), captureMs);
      }
    }
    this.queue.push(bytes);
    this.pump();
  }

  pump() {
    const buffer = this.buffer;
    if (!buffer || buffer.updating || this.queue.length === 0) return;
    try {
      buffer.appendBuffer(this.queue.shift());
    } catch (error) {
      if (error.name !== "QuotaExceededError") throw error;
      this.queue = []; // drop to the next codec message (the socket will be restarted)
      throw error;
    }
  }

  afterAppend() {
    const video = this.video;
    const ranges = video.buffered;
    if (ranges.length > 0) {
      const start = ranges.start(0);
      const end = ranges.end(ranges.length - 1);
      if (!this.started || video.currentTime < start || end - video.currentTime > MAX_BEHIND_S) {
        if (this.started || end > start) {
          video.currentTime = this.started ? end - 0.02 : start;
          this.started = true;
          if (video.paused) {
            video.play().catch((error) => this.stats.errors.push(`play: ${error.message}`));
          }
        }
      } else if (end - video.currentTime > CATCH_UP_ABOVE_S) {
        video.playbackRate = CATCH_UP_RATE;
      } else if (end - video.currentTime < CAUGHT_UP_BELOW_S) {
        video.playbackRate = 1;
      }
      if (video.currentTime - start > KEEP_BEHIND_S * 2 && this.queue.length === 0) {
        this.buffer.remove(start, video.currentTime - KEEP_BEHIND_S);
        return; // updateend follows
      }
    }
    this.pump();
  }

  watchFrames() {
    const onFrame = (_now, meta) => {
      const key = Math.round(meta.mediaTime * 1000);
      const captureMs = this.captureByMs.get(key) ?? this.captureByMs.get(key - 1)
        ?? this.captureByMs.get(key + 1) ?? null;
      this.stats.shown(captureMs, performance.timeOrigin + meta.presentationTime);
      for (const k of this.captureByMs.keys()) {
        if (k >= key - 1) break;
        this.captureByMs.delete(k); // Map keeps insertion (= decode) order
      }
      this.video.requestVideoFrameCallback(onFrame);
    };
    this.video.requestVideoFrameCallback(onFrame);
  }

  reset() {
    this.queue = [];
    this.buffer = null;
    this.started = false;
    this.captureByMs.clear();
    if (this.mediaSource) {
      this.mediaSource = null;
      this.video.removeAttribute("src");
      this.video.load();
    }
  }
}
