// What the browser speaker app's speaker app does around AudioStreamService, for the bench:
// open the WebSocket, start the service with a 250 ms chunk duration, and
// later stop it and close. Driven by bench/bench.py over the DevTools protocol.
'use strict';
let speaker = null;

async function startSpeaker(wsUrl, sessionId) {
  const ws = new WebSocket(wsUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error('WebSocket to ' + wsUrl + ' failed'));
  });
  const sent = [];
  const service = new AudioStreamService({
    sessionId,
    websocket: ws,
    chunkDuration: 250,
    onChunkSent: (size, index) => sent.push(size),
    onError: (e) => console.error(String(e)),
  });
  await service.start();
  speaker = { ws, service, sent };
  return { mimeType: service.mediaRecorder.mimeType,
           settings: service.audioStream.getAudioTracks()[0].getSettings() };
}

async function stopSpeaker() {
  speaker.service.stop();
  await new Promise((resolve) => setTimeout(resolve, 500));
  speaker.ws.close();
  await new Promise((resolve) => setTimeout(resolve, 200));
  return { chunks: speaker.sent.length, bytes: speaker.sent.reduce((a, b) => a + b, 0) };
}
