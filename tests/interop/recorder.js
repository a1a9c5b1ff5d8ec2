// A WebSocket recorder on the Node `ws` library: accepts one speaker, appends
// every message it receives to a JSON-lines file ({"t": ms since the Unix
// epoch, "binary": bool, "text": str}), and exits once the speaker has sent
// endSession and closed, or at --timeout.
//
// usage: node recorder.js --port-file FILE --out FILE [--timeout S]
'use strict';
const fs = require('fs');
const { WebSocketServer } = require('ws');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) {
  args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
}
const timeoutS = Number(args.timeout || 120);
const out = fs.openSync(args.out, 'w');

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 4 * 1024 * 1024 });
wss.on('listening', () => {
  const port = wss.address().port;
  fs.writeFileSync(args['port-file'] + '.tmp', String(port));
  fs.renameSync(args['port-file'] + '.tmp', args['port-file']);
  console.log(`recorder (ws ${require('ws/package.json').version}, node ${process.version}) ` +
              `listening on 127.0.0.1:${port}`);
});
wss.on('connection', (ws) => {
  let ended = false;
  ws.on('message', (data, isBinary) => {
    const rec = { t: Date.now(), binary: isBinary,
                  text: isBinary ? data.toString('latin1') : data.toString('utf8') };
    fs.writeSync(out, JSON.stringify(rec) + '\n');
    if (!isBinary && rec.text.includes('"endSession"')) ended = true;
  });
  ws.on('close', () => {
    if (ended) {
      console.log('recorder: session ended');
      fs.closeSync(out);
      wss.close();
      process.exit(0);
    }
  });
});
setTimeout(() => {
  console.log('recorder: timed out without endSession');
  process.exit(2);
}, timeoutS * 1000).unref();
