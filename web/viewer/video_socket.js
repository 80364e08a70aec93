// The /ws/video/{drone} stream: JSON text messages (codec, state) and binary media, with
// automatic reconnect (capped, jittered backoff 0.5 s → 8 s; the loop is
// ReconnectingSocket in ../socket.js). The server closes with 1008 when it refuses the
// token or the drone; before the handshake completes a browser sees that as 1006, so
// the page checks the token over HTTP (see main.js) and every close is retried here.

import { ReconnectingSocket } from "../socket.js";

export class VideoSocket extends ReconnectingSocket {
  /**
   * @param {() => string} urlOf  the URL at each attempt
   * @param {{onText: (msg: object) => void, onBinary: (data: ArrayBuffer) => void,
   *          onOpen: () => void, onClose: (info: {code: number, retryInMs: number}) => void}} handlers
   */
  constructor(urlOf, handlers) {
    super(urlOf, { maxBackoffMs: 8_000, binaryType: "arraybuffer" });
    this.handlers = handlers;
  }

  opened() {
    this.handlers.onOpen();
  }

  message(msg) {
    this.handlers.onText(msg);
  }

  binary(data) {
    this.handlers.onBinary(data);
  }

  retrying(info) {
    this.handlers.onClose(info);
  }
}
