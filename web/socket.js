// Websockets that reconnect by themselves with capped, jittered backoff.
//
// ReconnectingSocket holds the loop: connect, parse text messages as JSON, and after a
// close wait 0.5 s, 1 s, 2 s … (each ±25 %, capped) before the next attempt, until
// stop(). What a stream does with its messages and its closes is in its subclass:
// LiveSocket here (the console's and the viewer's JSON streams), VideoSocket in
// viewer/video_socket.js (codec/state JSON and binary media).

const BACKOFF_START_MS = 500;
const POLICY_VIOLATION = 1008;

export class ReconnectingSocket {
  /**
   * @param {() => string} urlOf  builds the URL at each attempt
   * @param {{maxBackoffMs: number, binaryType?: BinaryType}} options
   */
  constructor(urlOf, { maxBackoffMs, binaryType = "blob" }) {
    this.urlOf = urlOf;
    this.maxBackoffMs = maxBackoffMs;
    this.binaryType = binaryType;
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
    this.connecting();
    const ws = new WebSocket(this.urlOf());
    ws.binaryType = this.binaryType;
    this.ws = ws;
    ws.onopen = () => {
      this.backoffMs = BACKOFF_START_MS;
      this.opened();
    };
    ws.onmessage = (event) => {
      if (typeof event.data !== "string") {
        this.binary(event.data);
        return;
      }
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        console.warn("dfr: a websocket text message that is not JSON was ignored");
        return;
      }
      this.message(msg);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      if (!this.retries(event)) {
        this.stopped = true;
        this.gaveUp(event);
        return;
      }
      const retryInMs = Math.min(this.backoffMs, this.maxBackoffMs) * (0.75 + Math.random() * 0.5);
      this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
      this.retrying({ code: event.code, retryInMs });
      this.timer = setTimeout(() => this.connect(), retryInMs);
    };
  }

  // What a subclass may do at each step (by default nothing; every close is retried).

  /** Before each attempt. */
  connecting() {}

  /** The socket is open. */
  opened() {}

  /** @param {object} _msg  a text message, parsed */
  message(_msg) {}

  /** @param {ArrayBuffer | Blob} _data  a binary message */
  binary(_data) {}

  /** @param {CloseEvent} _event @returns {boolean} whether to try again after this close */
  retries(_event) {
    return true;
  }

  /** @param {CloseEvent} _event  the close after which it stopped trying */
  gaveUp(_event) {}

  /** @param {{code: number, retryInMs: number}} _info  closed; the next attempt is due */
  retrying(_info) {}
}

// A JSON stream that reports its state: connecting → open → reconnecting → open …;
// "refused" when the server rejects the token (close code 1008), after which it stops
// trying. Backoff 0.5 s → 10 s.
export class LiveSocket extends ReconnectingSocket {
  /**
   * @param {() => string} urlOf  builds the URL at each attempt
   * @param {{onMessage: (msg: object) => void, onState: (state: string, info: object) => void}} handlers
   */
  constructor(urlOf, { onMessage, onState }) {
    super(urlOf, { maxBackoffMs: 10_000 });
    this.onMessage = onMessage;
    this.onState = onState;
    this.attempt = 0;
    this.state = "closed";
  }

  stop() {
    super.stop();
    this.setState("closed");
  }

  setState(state, info = {}) {
    this.state = state;
    this.onState(state, info);
  }

  connecting() {
    this.attempt += 1;
    this.setState(this.attempt === 1 ? "connecting" : "reconnecting", { attempt: this.attempt });
  }

  opened() {
    this.attempt = 0;
    this.setState("open");
  }

  message(msg) {
    this.onMessage(msg);
  }

  retries(event) {
    return event.code !== POLICY_VIOLATION;
  }

  gaveUp(event) {
    this.setState("refused", { reason: event.reason || "token refused" });
  }

  retrying({ code, retryInMs }) {
    this.setState("reconnecting", { retryInMs, code });
  }
}
