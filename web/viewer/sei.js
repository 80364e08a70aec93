// The capture time the camera puts in every frame: an H.264 SEI "user data unregistered"
// message (payload type 5) with UUID 6466722d-6361-7074-7572-652d74696d65 ("dfr-capture-time")
// followed by 8 bytes, big-endian, microseconds since the Unix epoch.

const SEI_NAL = 6;
const USER_DATA_UNREGISTERED = 5;
const CAPTURE_UUID = new TextEncoder().encode("dfr-capture-time");

/** RBSP from a NAL payload: drop the emulation-prevention 0x03 after each 00 00. */
function unescape(bytes) {
  const out = new Uint8Array(bytes.length);
  let n = 0;
  let zeros = 0;
  for (const b of bytes) {
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    zeros = b === 0 ? zeros + 1 : 0;
    out[n++] = b;
  }
  return out.subarray(0, n);
}

/** Capture time in ms since the epoch from one NAL unit (no start code), or null. */
export function captureTimeOfNal(nal) {
  if (nal.length < 2 || (nal[0] & 0x1f) !== SEI_NAL) return null;
  const rbsp = unescape(nal.subarray(1));
  let i = 0;
  while (i < rbsp.length && rbsp[i] !== 0x80) {
    let type = 0;
    while (rbsp[i] === 0xff) { type += 255; i++; }
    type += rbsp[i++];
    let size = 0;
    while (rbsp[i] === 0xff) { size += 255; i++; }
    size += rbsp[i++];
    if (i + size > rbsp.length) return null;
    if (type === USER_DATA_UNREGISTERED && size >= 24
        && CAPTURE_UUID.every((b, k) => rbsp[i + k] === b)) {
      const view = new DataView(rbsp.buffer, rbsp.byteOffset + i + 16, 8);
      return Number(view.getBigUint64(0)) / 1000;
    }
    i += size;
  }
  return null;
}

/** Capture time (ms) from an Annex-B access unit, or null. */
export function captureTimeOfAnnexB(bytes) {
  let start = -1;
  for (let i = 0; i + 2 < bytes.length; i++) {
    if (bytes[i] === 0 && bytes[i + 1] === 0 && bytes[i + 2] === 1) {
      if (start >= 0) {
        const t = captureTimeOfNal(trimZeros(bytes.subarray(start, i)));
        if (t !== null) return t;
      }
      start = i + 3;
      i += 2;
    }
  }
  return start >= 0 ? captureTimeOfNal(bytes.subarray(start)) : null;
}

function trimZeros(nal) {
  let end = nal.length;
  while (end > 0 && nal[end - 1] === 0) end--;
  return nal.subarray(0, end);
}

/** Capture time (ms) from an AVCC sample (4-byte big-endian NAL lengths), or null. */
export function captureTimeOfAvcc(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let i = 0; i + 4 <= bytes.length;) {
    const size = view.getUint32(i);
    const t = captureTimeOfNal(bytes.subarray(i + 4, i + 4 + size));
    if (t !== null) return t;
    i += 4 + size;
  }
  return null;
}

function* boxes(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let i = 0; i + 8 <= bytes.length;) {
    const size = view.getUint32(i);
    const kind = String.fromCharCode(...bytes.subarray(i + 4, i + 8));
    if (size < 8 || i + size > bytes.length) return;
    yield [kind, bytes.subarray(i + 8, i + size)];
    i += size;
  }
}

/**
 * One fMP4 fragment (moof + mdat, one sample) as the relay sends it:
 * {decodeTime (timescale units) or null, captureMs or null}.
 */
export function readFragment(bytes) {
  let decodeTime = null;
  let captureMs = null;
  for (const [kind, body] of boxes(bytes)) {
    if (kind === "moof") {
      for (const [k, traf] of boxes(body)) {
        if (k !== "traf") continue;
        for (const [t, tfdt] of boxes(traf)) {
          if (t !== "tfdt") continue;
          const view = new DataView(tfdt.buffer, tfdt.byteOffset, tfdt.length);
          decodeTime = tfdt[0] === 1 ? Number(view.getBigUint64(4)) : view.getUint32(4);
        }
      }
    } else if (kind === "mdat") {
      captureMs = captureTimeOfAvcc(body);
    }
  }
  return { decodeTime, captureMs };
}
