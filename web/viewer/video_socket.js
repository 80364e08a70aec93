// The /ws/video/{drone} stream: JSON text messages (codec, state) and binary media, with
// automatic reconnect (capped, jittered backoff 0.5 s → 8 s). The server closes with 1008
// when it refuses the token or the drone; before the handshake completes a browser sees
// that as 1006, so the page checks the token over HTTP (see main.js).

const BACKOFF_START_MS = 500;
const BACKOFF_MAX_MS = 8_000;

export class VideoSocket {
  /**
   * @param {() => string} urlOf  the URL at each attempt
   * @param {{onText: (msg: object) => void, onBinary: (data: ArrayBuffer) => void,
   *          onOpen: () => void, onClose: (info: {code: number, retryInMs: number}) => void}} handlers
   */
  constructor(urlOf, handlers) {
    this.urlOf = urlOf;
    this.handlers = handlers;
    this.ws = null;
    this.timer = null;
    this.backoffMs = BACKOFF_START_MS;
    this.stopped = true;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close();
      this.ws = null;
    }
  }

  /** Drop the connection now and reconnect after the usual backoff. */
  restart() {
    if (this.ws) this.ws.close();
  }

  connect() {
    if (this.stopped) return;
    const ws = new WebSocket(this.urlOf());
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      this.backoffMs = BACKOFF_START_MS;
      this.handlers.onOpen();
    };
    ws.onmessage = (event) => {
      if (typeof event.data === "string") {
        let msg;
        try {
          msg = JSON.parse(event.data);
        } catch {
          console.warn("dfr viewer: a text message that is not JSON was ignored");
          return;
        }
        this.handlers.onText(msg);
      } else {
        this.handlers.onBinary(event.data);
      }
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      const retryInMs = Math.min(this.backoffMs, BACKOFF_MAX_MS) * (0.75 + Math.random() * 0.5);
      this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
      this.handlers.onClose({ code: event.code, retryInMs });
      this.timer = setTimeout(() => this.connect(), retryInMs);
    };
  }
}
