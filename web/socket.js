// A websocket that reconnects with capped, jittered backoff and reports its state:
// connecting → open → reconnecting → open …; "refused" when the server rejects the token
// (close code 1008), after which it stops trying.

const BACKOFF_START_MS = 500;
const BACKOFF_MAX_MS = 10_000;
const POLICY_VIOLATION = 1008;

export class LiveSocket {
  /**
   * @param {() => string} urlOf  builds the URL at each attempt
   * @param {{onMessage: (msg: object) => void, onState: (state: string, info: object) => void}} handlers
   */
  constructor(urlOf, { onMessage, onState }) {
    this.urlOf = urlOf;
    this.onMessage = onMessage;
    this.onState = onState;
    this.ws = null;
    this.timer = null;
    this.backoffMs = BACKOFF_START_MS;
    this.stopped = true;
    this.attempt = 0;
    this.state = "closed";
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
    this.setState("closed");
  }

  setState(state, info = {}) {
    this.state = state;
    this.onState(state, info);
  }

  connect() {
    if (this.stopped) return;
    this.attempt += 1;
    this.setState(this.attempt === 1 ? "connecting" : "reconnecting", { attempt: this.attempt });
    const ws = new WebSocket(this.urlOf());
    this.ws = ws;
    ws.onopen = () => {
      this.backoffMs = BACKOFF_START_MS;
      this.attempt = 0;
      this.setState("open");
    };
    ws.onmessage = (event) => {
      if (typeof event.data !== "string") return;
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        console.warn("dfr: a websocket message that is not JSON was ignored");
        return;
      }
      this.onMessage(msg);
    };
    ws.onclose = (event) => {
      this.ws = null;
      if (this.stopped) return;
      if (event.code === POLICY_VIOLATION) {
        this.stopped = true;
        this.setState("refused", { reason: event.reason || "token refused" });
        return;
      }
      const delayMs = Math.min(this.backoffMs, BACKOFF_MAX_MS) * (0.75 + Math.random() * 0.5);
      this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
      this.setState("reconnecting", { retryInMs: delayMs, code: event.code });
      this.timer = setTimeout(() => this.connect(), delayMs);
    };
  }
}
