// Test harness around the browser speaker app's AudioStreamService, doing what the app's
// SpeakerService does with it: open the WebSocket, start the service with
// chunkDuration 250, let the speaker talk, stop, send endSession, close.
// It only observes the service (onChunkSent, and a second 'dataavailable'
// listener on its MediaRecorder), it does not change what the service sends.
'use strict';

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// opts: { wsUrl, sessionId, recordMs, stopAfterChunkMs,
//         endSessionOrder: 'stop-first'|'app' }
// The speaker presses stop stopAfterChunkMs after the first chunk that
// MediaRecorder delivers once recordMs have passed: mid-timeslice, so the
// chunk the browser speaker app's stop() drops holds about that much audio. (Stopping right
// at a timeslice boundary makes it drop two chunks; see docs/interop.md.)
async function runAppClient(opts) {
  const t0 = performance.now();
  const rel = () => Math.round((performance.now() - t0) * 10) / 10;
  const result = { sent: [], produced: [], errors: [], events: [] };

  const ws = new WebSocket(opts.wsUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error('WebSocket to ' + opts.wsUrl + ' failed'));
  });
  ws.onmessage = (e) => result.events.push({ t: rel(), what: 'server says', data: String(e.data).slice(0, 200) });
  ws.onclose = (e) => result.events.push({ t: rel(), what: 'ws closed', code: e.code });

  let stopped;
  const stoppedP = new Promise((resolve) => { stopped = resolve; });
  const service = new AudioStreamService({
    sessionId: opts.sessionId,
    websocket: ws,
    chunkDuration: 250,
    onChunkSent: (size, index) => result.sent.push({ t: rel(), size, index }),
    onError: (error) => result.errors.push(String(error)),
    onStreamStart: () => result.events.push({ t: rel(), what: 'stream start' }),
    onStreamStop: () => { result.events.push({ t: rel(), what: 'stream stop' }); stopped(); },
  });

  const tGum = rel();
  await service.start();
  const tStart = rel();
  result.mimeType = service.mediaRecorder.mimeType;
  result.trackSettings = service.audioStream.getAudioTracks()[0].getSettings();
  result.tGetUserMedia = tGum;
  result.tRecorderStart = tStart;
  let chunkWaiter = null;
  service.mediaRecorder.addEventListener('dataavailable', (e) => {
    result.produced.push({ t: rel(), size: e.data.size });
    if (chunkWaiter) chunkWaiter();
  });

  // Let the fake microphone play the speech file.
  await sleep(opts.recordMs);
  await new Promise((resolve) => { chunkWaiter = resolve; });
  chunkWaiter = null;
  await sleep(opts.stopAfterChunkMs);

  const endSession = () => ws.send(JSON.stringify({
    action: 'endSession',
    sessionId: opts.sessionId,
    reason: 'Speaker ended session',
  }));
  if (opts.endSessionOrder === 'app') {
    // SpeakerService.endSession(): send endSession, then cleanup the service.
    endSession();
    result.tStop = rel();
    service.cleanup();
    await stoppedP;
  } else {
    result.tStop = rel();
    service.stop();
    await stoppedP;
    // Any FileReader still busy finishes; then the socket has flushed.
    await sleep(300);
    while (ws.bufferedAmount > 0) await sleep(20);
    endSession();
  }
  result.tEndSession = rel();
  result.chunksBufferedAtEnd = service.chunksBuffer.length;
  // SpeakerService.endSession() closes the socket one second later.
  await sleep(1000);
  ws.close();
  await sleep(100);
  return result;
}
