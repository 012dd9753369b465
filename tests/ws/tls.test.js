// wss on a TLS listener with HTTP/2 on: the upgrade works over HTTP/1.1 (what
// browsers do), the session cookie is Secure, and a GET to /tale/ws over
// HTTP/2 is answered 426 instead of tripping h2o's HTTP/1-only upgrade.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const http2 = require('http2');
const os = require('os');
const path = require('path');
const WebSocket = require('ws');
const { startHost, makeCert } = require('../lib/harness');

function tlsConfig(certDir) {
  return [
    'mode: if',
    'story: ${SRC}/conf/stories/lighthouse',
    'data_dir: ${TMP}/var',
    'autosave: false',
    'tick: 1s',
    'log_level: info',
    'limits:',
    '  input_rate: 0',
    'listeners:',
    '  - host: 127.0.0.1',
    '    port: 0',
    `    tls: { cert: ${path.join(certDir, 'cert.pem')}, key: ${path.join(certDir, 'key.pem')} }`,
    '    http2: true',
    'plugins:',
    '  - name: ws',
    '    module: ws',
    '',
  ].join('\n');
}

test('wss plays over TLS with a Secure cookie; HTTP/2 GET gets 426', async () => {
  const certDir = makeCert();
  const host = await startHost({ config: tlsConfig(certDir) });
  try {
    assert.strictEqual(host.scheme, 'https');
    const origin = `https://127.0.0.1:${host.port}`;
    const ws = new WebSocket(`wss://127.0.0.1:${host.port}/tale/ws`, { origin, rejectUnauthorized: false });
    const msgs = [];
    let setCookie = null;
    ws.on('upgrade', (res) => { setCookie = (res.headers['set-cookie'] || [])[0]; });
    ws.on('message', (d) => msgs.push(JSON.parse(d.toString())));
    await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
    assert.match(setCookie, /^tale_session=[0-9a-f]{32};/);
    assert.match(setCookie, /; Secure/);
    const t0 = Date.now();
    while (!msgs.some((m) => m.type === 'text') && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
    assert.deepStrictEqual(msgs[0], { type: 'connected' });
    ws.send(JSON.stringify({ cmd: 'look' }));
    while (!msgs.some((m) => m.location === 'The Jetty') && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
    assert.ok(msgs.some((m) => m.location === 'The Jetty'));

    const session = http2.connect(origin, { rejectUnauthorized: false });
    try {
      const { status, body } = await new Promise((resolve, reject) => {
        const req = session.request({ ':path': '/tale/ws', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' });
        let b = '';
        let st = 0;
        req.on('response', (h) => { st = h[':status']; });
        req.on('data', (d) => { b += d; });
        req.on('end', () => resolve({ status: st, body: b }));
        req.on('error', reject);
        req.end();
      });
      assert.strictEqual(status, 426);
      assert.ok(JSON.parse(body).error);
    } finally {
      session.close();
    }
    assert.strictEqual(ws.readyState, 1, 'the wss player is undisturbed');
    ws.close();
  } finally {
    const r = await host.stop();
    assert.strictEqual(r.code, 0, host.stderr());
    fs.rmSync(certDir, { recursive: true, force: true });
  }
});
