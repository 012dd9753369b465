// permessage-deflate (RFC 7692) in the ws plugin: negotiated with the `ws`
// library's client (which offers it by default) and refused when switched
// off, the walkthrough played both ways with fewer bytes on the wire when
// compressed, offers parsed robustly, and hostile compressed input (an
// inflate bomb, RSV1 where it may not be, data that is not deflate, bad
// UTF-8 inside) closed cleanly with the right code while the host plays on.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const net = require('node:net');
const zlib = require('node:zlib');
const crypto = require('node:crypto');
const { startHost, configWith, SRC } = require('../lib/harness');
const { connect, rawFrame, stopClean } = require('./client');

const WALK = fs.readFileSync(path.join(SRC, 'conf/stories/lighthouse/WALKTHROUGH.txt'), 'utf8').split('\n').filter((l) => l.trim());

// Send one command and wait for the frames it brings (the first text frame after it, then quiet).
async function command(p, cmd) {
  const from = p.msgs.length;
  p.send({ cmd });
  await p.waitFor((m) => m.type === 'text', { from, ms: 5000 });
}

// Play the whole walkthrough; return the bytes the client read and the text it got.
async function walk(p) {
  await p.waitFor((m) => m.type === 'text');
  await p.quiet(150);
  for (const cmd of WALK) await command(p, cmd);
  await p.quiet(200);
  return { wire: p.ws._socket.bytesRead, payload: p.msgs.reduce((n, m) => n + JSON.stringify(m).length, 0), msgs: p.msgs };
}

// A raw-socket handshake offering `extensions` (with the seat's cookie, if any); resolves with the status and headers.
function rawUpgrade(port, extensions, cookie) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const key = crypto.randomBytes(16).toString('base64');
    let buf = Buffer.alloc(0);
    s.on('error', reject);
    s.on('connect', () => s.write(['GET /tale/ws HTTP/1.1', `Host: 127.0.0.1:${port}`, `Origin: http://127.0.0.1:${port}`,
      'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13',
      ...(cookie ? [`Cookie: ${cookie}`] : []),
      ...(extensions !== undefined ? [].concat(extensions).map((e) => `Sec-WebSocket-Extensions: ${e}`) : []), '', ''].join('\r\n')));
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      s.off('data', onData);
      const lines = buf.subarray(0, end).toString().split('\r\n');
      const headers = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        const k = l.slice(0, i).toLowerCase();
        headers[k] = headers[k] !== undefined ? `${headers[k]}, ${l.slice(i + 1).trim()}` : l.slice(i + 1).trim();
      }
      s.destroy();
      resolve({ status: Number(lines[0].split(' ')[1]), headers });
    };
    s.on('data', onData);
  });
}

// Compressed the way RFC 7692 says: raw deflate, sync flush, the 00 00 ff ff tail dropped.
function deflateMsg(buf) {
  const z = zlib.deflateRawSync(buf, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return z.subarray(0, z.length - 4);
}

// One game from the start (a host of its own: the story has one seat) with the given client.
async function walkFresh(perMessageDeflate) {
  const host = await startHost({ config: configWith(['ws']) });
  try {
    const p = await connect(host, { perMessageDeflate });
    const r = await walk(p);
    r.extensions = p.extensions;
    p.ws.close(1000);
    await p.closed;
    await stopClean(assert, host);
    return r;
  } finally {
    await host.stop();
  }
}

test('the walkthrough plays with deflate negotiated and without, and deflate saves bytes', async () => {
  const a = await walkFresh(false);
  assert.strictEqual(a.extensions, '');
  // threshold 0: the client compresses its commands too, so the host inflates every one
  const b = await walkFresh({ threshold: 0 });
  assert.strictEqual(b.extensions,
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10');
  // the same game both ways
  const texts = (r) => r.msgs.filter((m) => m.type === 'text').map((m) => m.text);
  assert.deepStrictEqual(texts(b), texts(a));
  assert.ok(texts(b).length > WALK.length);
  const ratio = b.wire / a.wire;
  assert.ok(ratio < 0.8, `deflate should save bytes on the walkthrough: ${b.wire} vs ${a.wire} (${ratio.toFixed(2)})`);
});

test('deflate: off answers no offer; the client plays uncompressed', async () => {
  const host = await startHost({ config: configWith(['ws'], { pluginConfig: { ws: { deflate: false } } }) });
  try {
    const p = await connect(host, { perMessageDeflate: { threshold: 0 } });
    assert.strictEqual(p.extensions, '');
    await p.waitFor((m) => m.type === 'text');
    await command(p, 'look');
    p.ws.close(1000);
    await p.closed;
    await stopClean(assert, host);
  } finally {
    await host.stop();
  }
});

test('offers: the first acceptable one wins, bad ones are declined, settings shape the answer', async () => {
  const host = await startHost({
    config: configWith(['ws'], { pluginConfig: { ws: { deflate_window_bits: 12, no_context_takeover: false } } }),
  });
  try {
    const cases = [
      // [offered, answered ('' for none)]
      ['permessage-deflate', 'permessage-deflate; server_max_window_bits=12'],
      ['permessage-deflate; client_max_window_bits', 'permessage-deflate; server_max_window_bits=12; client_max_window_bits=12'],
      ['permessage-deflate; client_max_window_bits=9; server_max_window_bits=11',
        'permessage-deflate; server_max_window_bits=11; client_max_window_bits=9'],
      ['permessage-deflate; server_no_context_takeover; client_no_context_takeover',
        'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12'],
      ['permessage-deflate; server_max_window_bits="10"', 'permessage-deflate; server_max_window_bits=10'],
      // refused: unknown parameter, repeated one, value out of range or with a leading zero, 8 (zlib cannot)
      ['permessage-deflate; foo', ''],
      ['permessage-deflate; server_no_context_takeover; server_no_context_takeover', ''],
      ['permessage-deflate; server_max_window_bits=16', ''],
      ['permessage-deflate; server_max_window_bits=09', ''],
      ['permessage-deflate; server_max_window_bits=8', ''],
      ['permessage-deflate; server_max_window_bits', ''],
      ['permessage-deflate; server_no_context_takeover=1', ''],
      // ... and the next offer is taken instead
      ['permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=9',
        'permessage-deflate; server_max_window_bits=9'],
      // other extensions and junk are passed over; a quoted comma does not split an element
      ['x-webkit-deflate-frame, permessage-deflate', 'permessage-deflate; server_max_window_bits=12'],
      ['foo; bar="a,b", permessage-deflate', 'permessage-deflate; server_max_window_bits=12'],
      [';;;, =, permessage-deflate;', ''],
      [[';;', 'permessage-deflate'], 'permessage-deflate; server_max_window_bits=12'],
      ['permessage-deflate; server_max_window_bits="1', ''],
    ];
    let cookie;
    for (const [offer, answer] of cases) {
      const r = await rawUpgrade(host.port, offer, cookie);
      if (r.headers['set-cookie']) cookie = r.headers['set-cookie'].split(';')[0];
      assert.strictEqual(r.status, 101, JSON.stringify(offer));
      assert.strictEqual(r.headers['sec-websocket-extensions'] || '', answer, JSON.stringify(offer));
    }
    // with context takeover on both sides the client's compressed commands keep their context
    const p = await connect(host, { cookie, perMessageDeflate: { threshold: 0, serverNoContextTakeover: false } });
    assert.match(p.extensions, /^permessage-deflate; server_max_window_bits=12/);
    await walk(p);
    assert.ok(p.msgs.some((m) => m.type === 'text' && /lamp/i.test(m.text || '')));
    p.ws.close(1000);
    await p.closed;
    await stopClean(assert, host);
  } finally {
    await host.stop();
  }
});

test('hostile compressed input is closed cleanly and the host plays on', async () => {
  const host = await startHost({ config: configWith(['ws']) });
  try {
    const hostile = [
      // an inflate bomb: 32 MiB of spaces in some 32 KiB, far past max_message (64 KiB) once inflated
      ['bomb', rawFrame(0x41, deflateMsg(Buffer.alloc(32 << 20, 0x20))), 1009],
      ['not deflate data', rawFrame(0x41, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x12])), 1007],
      ['bad UTF-8 inside', rawFrame(0x41, deflateMsg(Buffer.from([0x6c, 0x6f, 0xff, 0xfe, 0x6b]))), 1007],
      ['RSV1 on a continuation', Buffer.concat([rawFrame(0x41, deflateMsg(Buffer.from('lo')), false),
        rawFrame(0x40, deflateMsg(Buffer.from('ok')))]), 1002],
      ['RSV1 on a ping', rawFrame(0x49, Buffer.from('hi')), 1002],
      ['RSV2', rawFrame(0x21, Buffer.from('look')), 1002],
    ];
    let cookie;
    for (const [what, bytes, code] of hostile) {
      const p = await connect(host, { cookie, perMessageDeflate: { threshold: 0 } });
      cookie = p.cookie;
      await p.waitFor((m) => m.type === 'text');
      assert.ok(bytes.length < 64 * 1024, `${what}: the frame itself fits max_message`);
      p.ws._socket.write(bytes);
      const closed = await p.closed;
      assert.strictEqual(closed.code, code, `${what}: ${JSON.stringify(closed)}`);
    }
    // without deflate negotiated, RSV1 is a protocol error
    const q = await connect(host, { cookie, perMessageDeflate: false });
    await q.waitFor((m) => m.type === 'text');
    q.ws._socket.write(rawFrame(0x41, deflateMsg(Buffer.from('{"cmd":"look"}'))));
    assert.strictEqual((await q.closed).code, 1002);

    const ok = await connect(host, { cookie, perMessageDeflate: { threshold: 0 } });
    await ok.waitFor((m) => m.type === 'text');
    await command(ok, 'look');
    ok.ws.close(1000);
    await ok.closed;
    assert.match(host.stderr(), /message too big once inflated/);
    await stopClean(assert, host);
  } finally {
    await host.stop();
  }
});
