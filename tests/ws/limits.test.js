// Limits and bad input, each with its documented answer, while another player
// keeps playing undisturbed (MUD mode: every connection is its own player).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const net = require('net');
const http = require('http');
const { startHost, configWith } = require('../lib/harness');
const { connect, rawFrame, stopClean } = require('./client');

async function playsOn(p) {
  const from = p.msgs.length;
  p.send({ cmd: 'look' });
  const { msg } = await p.waitFor((m) => m.type === 'text' && m.location === 'The Jetty', { from });
  assert.strictEqual(p.ws.readyState, 1);
  return msg;
}

async function victim(host) {
  const v = await connect(host);
  await v.waitFor((m) => m.type === 'text');
  return v;
}

// Raw HTTP: returns { status, headers, body }.
function rawRequest(port, text) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let data = '';
    s.on('data', (d) => {
      data += d;
      const end = data.indexOf('\r\n\r\n');
      if (end >= 0) {
        const len = /content-length: *(\d+)/i.exec(data.slice(0, end));
        if (!len || data.length >= end + 4 + Number(len[1])) {
          s.destroy();
          resolve({ status: Number(data.split(' ')[1]), head: data.slice(0, end), body: data.slice(end + 4) });
        }
      }
    });
    s.on('error', reject);
    s.setTimeout(5000, () => { s.destroy(); reject(new Error('timeout')); });
    s.write(text);
  });
}

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
function handshake(port, { method = 'GET', version = '1.1', key = KEY, wsVersion = '13', extra = '' } = {}) {
  return `${method} /tale/ws HTTP/${version}\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: ${wsVersion}\r\n${extra}\r\n`;
}

test('every limit and bad handshake gets its answer while another player plays on', async () => {
  const host = await startHost({
    config: configWith(['ws'], { mode: 'mud', pluginConfig: { ws: { max_message: '4k' } } }),
  });
  try {
    const bystander = await connect(host);
    await bystander.waitFor((m) => m.type === 'text');
    await playsOn(bystander);

    // a message over max_message: 1009
    let v = await victim(host);
    v.send(JSON.stringify({ cmd: 'x'.repeat(5000) }));
    assert.strictEqual((await v.closed).code, 1009);
    await playsOn(bystander);

    // just under the limit is fine
    v = await victim(host);
    v.send(JSON.stringify({ cmd: 'look ' + 'y'.repeat(3000) }));
    await v.waitFor((m) => m.type === 'text', { from: v.msgs.length - 1 });
    assert.strictEqual(v.ws.readyState, 1);
    v.ws.close();

    // a binary message: 1003
    v = await victim(host);
    v.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.strictEqual((await v.closed).code, 1003);
    await playsOn(bystander);

    // invalid UTF-8 in a text message: 1007 (written raw: the library would not send it)
    v = await victim(host);
    v.ws._socket.write(rawFrame(0x1, Buffer.from([0x6c, 0x6f, 0xff, 0xfe, 0x6b])));
    assert.strictEqual((await v.closed).code, 1007);
    await playsOn(bystander);

    // bad JSON input: a text frame, and the connection stays
    v = await victim(host);
    const from = v.msgs.length;
    v.send('{"cmd": ["look"]}');
    const { msg } = await v.waitFor((m) => m.type === 'text', { from });
    assert.match(msg.text, /Input not understood/);
    await playsOn(v);
    v.ws.close();

    // cross-origin handshakes: 403, whatever the near miss
    for (const origin of ['http://evil.example', `http://127.0.0.1:${host.port + 1}`, `http://127.0.0.1:${host.port}.evil.example`]) {
      await assert.rejects(connect(host, { origin }), (e) => e.status === 403 && /"error"/.test(e.body));
    }
    // same origin, with or without the explicit origin header, is fine
    (await connect(host, { origin: host.url })).ws.close();

    // malformed handshakes: 4xx with a JSON error, never a crash
    const cases = [
      [handshake(host.port, { method: 'POST', extra: 'Content-Length: 0\r\n' }), 405],
      [handshake(host.port, { method: 'PUT', extra: 'Content-Length: 0\r\n' }), 405],
      [handshake(host.port, { version: '1.0' }), 426],
      [handshake(host.port, { key: 'too-short' }), 400],
      [handshake(host.port, { wsVersion: '8' }), 426],
      [`GET /tale/ws HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\n\r\n`, 426],
      [`GET /tale/ws HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n`, 400],
      [handshake(host.port).replace('/tale/ws', '/tale/ws?resume=-1'), 400],
    ];
    for (const [req, status] of cases) {
      const r = await rawRequest(host.port, req);
      assert.strictEqual(r.status, status, `${req.split('\r\n')[0]} -> ${r.status}\n${r.head}`);
      if (status !== 405 || !/^HEAD/.test(req)) assert.ok(JSON.parse(r.body).error, r.body);
    }
    await playsOn(bystander);
    assert.doesNotMatch(host.stderr(), /assert|Aborted|SEGV/i);
    assert.strictEqual(host.proc.exitCode, null, 'the host is still running');
    await stopClean(assert, host);
  } finally {
    await host.stop();
  }
});

test('fetch over a plain HTTP client gets 426 with Upgrade: websocket', async () => {
  const host = await startHost({ config: configWith(['ws']) });
  try {
    const r = await new Promise((resolve, reject) => {
      http.get(`${host.url}/tale/ws`, (res) => {
        let b = '';
        res.on('data', (d) => { b += d; });
        res.on('end', () => resolve({ res, b }));
      }).on('error', reject);
    });
    assert.strictEqual(r.res.statusCode, 426);
    assert.strictEqual(r.res.headers.upgrade, 'websocket');
    assert.match(r.res.headers['content-type'], /application\/json/);
    await stopClean(assert, host);
  } finally {
    await host.stop();
  }
});

test('a client that stops reading is closed with 1008 and a log line; its session resumes', async () => {
  const host = await startHost({ config: configWith(['ws'], { pluginConfig: { ws: { max_backlog: '64k' } } }) });
  try {
    const p = await connect(host);
    await p.waitFor((m) => m.type === 'text');
    await p.quiet(100);
    p.ws._socket.pause(); // stop reading; keep typing
    const t0 = Date.now();
    while (!/closing a connection that does not read/.test(host.stderr())) {
      assert.ok(Date.now() - t0 < 20000, 'the plugin never gave up on a client that does not read');
      for (let i = 0; i < 200; i++) p.send('look');
      await new Promise((r) => setTimeout(r, 5));
    }
    p.ws._socket.resume();
    const closed = await p.closed;
    assert.ok([1008, 1006].includes(closed.code), `closed with ${closed.code}`); // 1006 if the grace ran out first
    const seen = p.msgs.filter((m) => Number.isInteger(m.seq)).map((m) => m.seq);
    const last = Math.max(...seen);

    // The same seat, resumable: no new cookie, and what is replayed continues
    // after what we saw (the host holds a bounded backlog, so the oldest of a
    // flood this size may be gone, but nothing is repeated or out of order).
    // (A client that read its whole backlog before the close has nothing to
    // be replayed; the look below then comes right after what it saw.)
    const q = await connect(host, { cookie: p.cookie, resume: last });
    assert.strictEqual(q.setCookie, null);
    await q.quiet(300);
    const from = q.msgs.length;
    q.send({ cmd: 'look' });
    await q.waitFor((m) => m.location === 'The Jetty', { from });
    const replayed = q.msgs.filter((m) => Number.isInteger(m.seq)).map((m) => m.seq);
    assert.ok(replayed[0] > last);
    replayed.forEach((v, i) => assert.strictEqual(v, replayed[0] + i));
    await stopClean(assert, host);
  } finally {
    await host.stop();
  }
});
