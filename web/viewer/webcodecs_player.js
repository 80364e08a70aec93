// WebCodecs path: Annex-B access units, each behind a 17-byte header (>QBQ: timestamp µs,
// flags bit 0 = keyframe, capture time µs since the epoch or 0), decoded by VideoDecoder
// and drawn on a canvas as soon as each frame is out of the decoder.

const HEADER_BYTES = 17;
const MAX_DECODE_QUEUE = 8; // more waiting than this: drop to the next keyframe

export class WebCodecsPlayer {
  constructor(canvas, stats) {
    this.canvas = canvas;
    this.context = canvas.getContext("2d");
    this.stats = stats;
    this.decoder = null;
    this.config = null;
    this.needKeyframe = true;
    this.captureByUs = new Map();
  }

  static supported() {
    return typeof VideoDecoder !== "undefined";
  }

  codec(msg) {
    this.reset();
    this.canvas.width = msg.width;
    this.canvas.height = msg.height;
    this.config = { codec: msg.codec, optimizeForLatency: true };
    this.decoder = new VideoDecoder({
      output: (frame) => this.show(frame),
      error: (error) => {
        this.stats.errors.push(`decoder: ${error.message}`);
        this.needKeyframe = true;
      },
    });
    this.decoder.configure(this.config);
    this.needKeyframe = true;
  }

  media(data) {
    const decoder = this.decoder;
    if (!decoder || decoder.state === "closed" || data.byteLength <= HEADER_BYTES) return;
    const view = new DataView(data);
    const timestampUs = Number(view.getBigUint64(0));
    const keyframe = (view.getUint8(8) & 1) === 1;
    const captureUs = Number(view.getBigUint64(9));
    if (!keyframe && (this.needKeyframe || decoder.decodeQueueSize > MAX_DECODE_QUEUE)) {
      this.needKeyframe = true;
      return;
    }
    if (decoder.state === "unconfigured") decoder.configure(this.config);
    this.needKeyframe = false;
    if (captureUs > 0) this.captureByUs.set(timestampUs, captureUs / 1000);
    decoder.decode(new EncodedVideoChunk({
      type: keyframe ? "key" : "delta",
      timestamp: timestampUs,
      data: new Uint8Array(data, HEADER_BYTES),
    }));
  }

  show(frame) {
    try {
      this.context.drawImage(frame, 0, 0, this.canvas.width, this.canvas.height);
      const captureMs = this.captureByUs.get(frame.timestamp) ?? null;
      this.stats.shown(captureMs, performance.timeOrigin + performance.now());
      for (const t of this.captureByUs.keys()) {
        if (t > frame.timestamp) break;
        this.captureByUs.delete(t);
      }
    } finally {
      frame.close();
    }
  }

  reset() {
    this.captureByUs.clear();
    if (this.decoder && this.decoder.state !== "closed") this.decoder.close();
    this.decoder = null;
    this.needKeyframe = true;
  }
}
