// A Node receiver on the `ws` library doing what the bench asks of every
// receiver, per text message: JSON.parse; validate (action is one of the
// original protocol's; for audioChunk: sessionId a non-empty string, audioData a non-empty
// string of valid standard base64, chunkIndex an integer 0..2^53-1,
// timestamp and originalSize integers if present, format a string if
// present); base64-decode audioData (Buffer.from); check originalSize; one
// session per connection; restore chunkIndex order per session (duplicates
// dropped, up to 16 chunks held for a gap, then the gap is skipped); append
// the delivered bytes to the session's stream (emptied every 64 KiB, where a
// decoder would take them); every 4th delivered chunk, reply
// {"action":"ack","sessionId":...,"chunkIndex":N}. Refusals get
// {"action":"error","code":...}.
//
// ws's defaults are kept (no permessage-deflate on the server, no pings),
// except maxPayload (128 KiB, as our receiver).
//
// With --journal-dir DIR it also does what wssaudiochunk-ingest --record webm
// does per delivered chunk: append the bytes to the session's journal
// (DIR/<n>.webm) and a line to its index (DIR/<n>.chunks), files created when
// the session starts. As ours, it gathers a session's records and writes them
// before the ack that covers them (or when 64 KiB are held, or the connection
// closes): one synchronous write() to each file per ack. The bench's scale
// and shard parts run it so: the same work as ours.
//
// Every second it prints a JSON line with CLOCK_MONOTONIC time, its CPU
// seconds, RSS and counters.
//
// usage: node receiver.js [--port P] [--port-file F] [--max-seconds S] [--journal-dir DIR]
'use strict';
const fs = require('fs');
const { WebSocketServer } = require('ws');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];

const ACTIONS = new Set(['audioChunk', 'pauseBroadcast', 'resumeBroadcast', 'muteBroadcast', 'unmuteBroadcast',
  'endSession']);
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const MAX_PENDING = 16;
const STREAM_CAP = 64 * 1024;
const ACK_EVERY = 4;

const C = { msgs: 0, delivered: 0, bytes: 0, rejected: 0, open: 0, connections: 0, discont: 0 };
const sessions = new Map();

function error(code, index) {
  const d = { action: 'error', code };
  if (index !== undefined) d.chunkIndex = index;
  return JSON.stringify(d);
}

const JOURNAL_DIR = args['journal-dir'];
let journals = 0;

function openJournal(s) {
  const stem = require('path').join(JOURNAL_DIR, String(journals++));
  s.data = fs.openSync(stem + '.webm', 'ax');
  s.index = fs.openSync(stem + '.chunks', 'ax');
  s.offset = 0;
  s.gathered = [];
  s.gatheredBytes = 0;
  s.lines = '';
}

function commitJournal(s) {
  if (!s.lines) return;
  fs.writeSync(s.data, s.gathered.length === 1 ? s.gathered[0] : Buffer.concat(s.gathered, s.gatheredBytes));
  fs.writeSync(s.index, s.lines);
  s.gathered = [];
  s.gatheredBytes = 0;
  s.lines = '';
}

function deliver(s, audio) {
  if (JOURNAL_DIR) {
    s.gathered.push(audio);
    s.gatheredBytes += audio.length;
    s.lines += `C ${s.next} ${s.offset} ${audio.length} -\n`;
    s.offset += audio.length;
    if (s.gatheredBytes >= STREAM_CAP) commitJournal(s);
  } else {
    if (s.held + audio.length > STREAM_CAP) { s.stream = []; s.held = 0; } // handed to the decoder
    s.stream.push(audio);
  }
  s.held += audio.length;
  s.next++;
  s.sinceAck++;
  C.delivered++;
  C.bytes += audio.length;
}

function isInt(v) { return typeof v === 'number' && Number.isInteger(v); }

const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(args.port || 0), maxPayload: 128 * 1024 });
wss.on('listening', () => {
  const port = wss.address().port;
  if (args['port-file']) {
    fs.writeFileSync(args['port-file'] + '.tmp', String(port) + '\n');
    fs.renameSync(args['port-file'] + '.tmp', args['port-file']);
  }
  process.stderr.write(`receiver.js (ws ${require('ws/package.json').version}, node ${process.version}) ` +
                       `on 127.0.0.1:${port}\n`);
});
wss.on('connection', (ws) => {
  C.open++;
  C.connections++;
  let sid = null;
  ws.on('message', (data, isBinary) => {
    C.msgs++;
    if (isBinary) { C.rejected++; ws.send(error('binary-not-supported')); return; }
    let m;
    try { m = JSON.parse(data); } catch (e) { C.rejected++; ws.send(error('not-json')); return; }
    if (m === null || typeof m !== 'object' || Array.isArray(m)) { C.rejected++; ws.send(error('not-object')); return; }
    if (typeof m.action !== 'string' || !ACTIONS.has(m.action)) { C.rejected++; ws.send(error('unknown-action')); return; }
    if (m.action !== 'audioChunk') return;
    const sessionId = m.sessionId, b64 = m.audioData, index = m.chunkIndex;
    if (typeof sessionId !== 'string' || !sessionId || typeof b64 !== 'string' || !b64) {
      C.rejected++; ws.send(error('missing-field')); return;
    }
    if (!Number.isSafeInteger(index) || index < 0) { C.rejected++; ws.send(error('bad-value')); return; }
    if ((m.timestamp !== undefined && !isInt(m.timestamp)) || (m.originalSize !== undefined && !isInt(m.originalSize)) ||
        (m.format !== undefined && typeof m.format !== 'string')) {
      C.rejected++; ws.send(error('wrong-type', index)); return;
    }
    if (b64.length % 4 !== 0 || !B64.test(b64)) { C.rejected++; ws.send(error('bad-base64', index)); return; }
    const audio = Buffer.from(b64, 'base64');
    if (m.originalSize !== undefined && m.originalSize !== audio.length) {
      C.rejected++; ws.send(error('size-mismatch', index)); return;
    }
    if (sid === null) sid = sessionId;
    else if (sid !== sessionId) { C.rejected++; ws.send(error('one-session-per-connection', index)); return; }
    let s = sessions.get(sid);
    if (!s) {
      s = { next: 0, pending: new Map(), stream: [], held: 0, sinceAck: 0 };
      if (JOURNAL_DIR) openJournal(s);
      sessions.set(sid, s);
    }
    if (index < s.next || s.pending.has(index)) return; // duplicate
    if (index === s.next) deliver(s, audio);
    else {
      s.pending.set(index, audio);
      if (s.pending.size > MAX_PENDING) { C.discont++; s.next = Math.min(...s.pending.keys()); }
    }
    while (s.pending.has(s.next)) { const a = s.pending.get(s.next); s.pending.delete(s.next); deliver(s, a); }
    if (s.sinceAck >= ACK_EVERY) {
      s.sinceAck = 0;
      if (JOURNAL_DIR) commitJournal(s);
      ws.send(JSON.stringify({ action: 'ack', sessionId: sid, chunkIndex: s.next - 1 }));
    }
  });
  ws.on('error', () => {});
  ws.on('close', () => {
    C.open--;
    const s = sid === null ? undefined : sessions.get(sid);
    if (JOURNAL_DIR && s) commitJournal(s);
  });
});

function statsLine(tag) {
  const cpu = process.cpuUsage();
  const line = { [tag]: 1, mono: Number(process.hrtime.bigint()) / 1e9, cpu: (cpu.user + cpu.system) / 1e6,
    rss_kib: Math.round(process.memoryUsage().rss / 1024), ...C, sessions: sessions.size };
  process.stdout.write(JSON.stringify(line) + '\n');
}
const ticker = setInterval(() => statsLine('stats'), 1000);
function stop() { clearInterval(ticker); statsLine('final'); process.exit(0); }
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setTimeout(stop, Number(args['max-seconds'] || 1800) * 1000).unref();
