// Reads the capture time the benchmark camera draws into the bottom rows of each frame
// (benchmarks/video/stamp_camera.py: 40 blocks, white = 1, ms since the epoch mod 2**40)
// from the frame on screen, via requestVideoFrameCallback. Classic script: window.dfrStamp.

(function () {
  const BITS = 40;
  const STRIP_PX = 16;
  const MODULUS = 2 ** BITS;

  function decode(pixels, width) {
    const block = Math.floor(width / BITS);
    let value = 0;
    for (let bit = 0; bit < BITS; bit++) {
      const x = bit * block + Math.floor(block / 2);
      const i = ((STRIP_PX / 2) * width + x) * 4;
      const luma = (pixels[i] + pixels[i + 1] + pixels[i + 2]) / 3;
      value = value * 2 + (luma > 128 ? 1 : 0);
    }
    return value;
  }

  /** The full epoch-ms time nearest to now that has these low 40 bits. */
  function unwrap(lowMs, nowMs) {
    let full = Math.floor(nowMs / MODULUS) * MODULUS + lowMs;
    if (full > nowMs + MODULUS / 2) full -= MODULUS;
    return full;
  }

  /**
   * Call ``onSample(latencyMs, stampMs)`` for each frame shown by ``video``: the frame's
   * presentation time (rVFC metadata.presentationTime, on the epoch clock) minus its stamp.
   * Frames whose stamp reads as nonsense (more than 10 s away) are counted in ``bad``.
   */
  function watch(video, onSample) {
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    const counts = { frames: 0, bad: 0 };
    const onFrame = (_now, meta) => {
      const width = meta.width;
      const height = meta.height;
      if (canvas.width !== width) canvas.width = width;
      canvas.height = STRIP_PX;
      context.drawImage(video, 0, height - STRIP_PX, width, STRIP_PX, 0, 0, width, STRIP_PX);
      const pixels = context.getImageData(0, 0, width, STRIP_PX).data;
      const shownMs = performance.timeOrigin + meta.presentationTime;
      const stampMs = unwrap(decode(pixels, width), shownMs);
      counts.frames += 1;
      if (Math.abs(shownMs - stampMs) > 10_000) counts.bad += 1;
      else onSample(shownMs - stampMs, stampMs);
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
    return counts;
  }

  window.dfrStamp = { watch };
})();
