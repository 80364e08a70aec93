// Plays a Janus streaming mountpoint over WebRTC with janus.js (vendored from Debian's
// libjs-janus-gateway) and measures it like the dfr viewer: frames shown, time from
// starting to connect to the first frame shown, glass-to-glass from the pixel stamp.
// ?server=http://127.0.0.1:PORT/janus&id=1[&viewers=N&render=0]
// With viewers=N, N handles each watch the mountpoint; only the first is rendered (and
// with render=0 none: the receiving peers then only cost the network and SRTP).

(function () {
  const params = new URLSearchParams(location.search);
  const server = params.get("server");
  const mountpoint = Number(params.get("id") || "1");
  const viewers = Number(params.get("viewers") || "1");
  const render = params.get("render") !== "0";
  const video = document.getElementById("video");
  const stats = {
    state: "init", framesShown: 0, firstFrameMs: null, latencySamplesMs: [],
    peersConnected: 0, errors: [], startedMs: null, stampCounts: null,
  };
  window.janusViewer = stats;

  function watchOne(janus, index) {
    let handle = null;
    janus.attach({
      plugin: "janus.plugin.streaming",
      success: (h) => {
        handle = h;
        handle.send({ message: { request: "watch", id: mountpoint } });
      },
      error: (error) => stats.errors.push(`attach: ${error}`),
      onmessage: (msg, jsep) => {
        if (msg.error) stats.errors.push(`streaming: ${msg.error}`);
        if (!jsep) return;
        handle.createAnswer({
          jsep,
          tracks: [{ type: "data" }], // offered audio/video are accepted recvonly
          success: (answer) => handle.send({ message: { request: "start" }, jsep: answer }),
          error: (error) => stats.errors.push(`answer: ${error}`),
        });
      },
      webrtcState: (up) => { if (up) stats.peersConnected += 1; },
      onremotetrack: (track, _mid, on) => {
        if (!on || track.kind !== "video" || index !== 0 || !render) return;
        Janus.attachMediaStream(video, new MediaStream([track]));
        video.play().catch((error) => stats.errors.push(`play: ${error.message}`));
      },
    });
  }

  if (render) {
    video.requestVideoFrameCallback(function first() {
      stats.firstFrameMs = performance.now() - stats.startedMs;
    });
    const countFrames = () => {
      stats.framesShown += 1;
      video.requestVideoFrameCallback(countFrames);
    };
    video.requestVideoFrameCallback(countFrames);
    stats.stampCounts = window.dfrStamp.watch(video, (latencyMs) => {
      if (stats.latencySamplesMs.length < 20000) stats.latencySamplesMs.push(latencyMs);
    });
  }

  Janus.init({
    debug: false,
    dependencies: Janus.useDefaultDependencies(),
    callback: () => {
      stats.state = "connecting";
      stats.startedMs = performance.now();
      const janus = new Janus({
        server,
        success: () => {
          stats.state = "attached";
          for (let i = 0; i < viewers; i++) watchOne(janus, i);
        },
        error: (error) => { stats.state = "error"; stats.errors.push(`session: ${error}`); },
      });
    },
  });
})();
