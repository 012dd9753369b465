// client.js - a WebSocket player for the ws plugin's integration tests.
//
//   const p = await connect(host, { cookie, resume, origin });
//   p.send({ cmd: 'look' }); p.send('look');          // JSON or a plain text message
//   const { msg, index } = await p.waitFor((m) => m.type === 'text', { from: 0, ms: 3000 });
//   const { code, reason } = await p.closed;           // resolves when the socket closes
//   p.cookie                                           // 'tale_session=…' from the 101's Set-Cookie
//   connect(host, { perMessageDeflate: false })        // the ws library's option (it offers deflate by default)
//   p.extensions                                       // the 101's Sec-WebSocket-Extensions ('' without)
'use strict';
const WebSocket = require('ws');

// host.wsBase ('wss://127.0.0.1:PORT', a proxy in front) overrides the host's own address.
function wsUrl(host, { resume, path = '/tale/ws' } = {}) {
  const base = host.wsBase || `ws://127.0.0.1:${host.port}`;
  return `${base}${path}${resume !== undefined ? `?resume=${resume}` : ''}`;
}

// options: passed on to the ws library (ca, localAddress ...).
function connect(host, { cookie, resume, origin = host.url, path, perMessageDeflate = true, options = {} } = {}) {
  return new Promise((resolve, reject) => {
    const headers = cookie ? { Cookie: cookie } : {};
    const ws = new WebSocket(wsUrl(host, { resume, path }), { perMessageDeflate, ...options, headers, origin });
    const p = {
      ws,
      msgs: [],
      cookie,
      setCookie: null,
      send(x) { ws.send(typeof x === 'string' ? x : JSON.stringify(x)); },
      // Resolve with the first message at or after `from` that satisfies pred.
      waitFor(pred, { from = 0, ms = 5000 } = {}) {
        const t0 = Date.now();
        return new Promise((res, rej) => {
          const poll = () => {
            for (let i = from; i < p.msgs.length; i++) {
              if (pred(p.msgs[i])) { res({ msg: p.msgs[i], index: i }); return; }
            }
            if (Date.now() - t0 > ms) {
              rej(new Error(`no matching message in ${ms} ms; got ${JSON.stringify(p.msgs.slice(from)).slice(0, 2000)}`));
              return;
            }
            setTimeout(poll, 10);
          };
          poll();
        });
      },
      // Collect until `ms` of silence (bounded by `max` ms overall).
      async quiet(ms = 300, max = 5000) {
        const t0 = Date.now();
        let n = -1;
        while (n !== p.msgs.length && Date.now() - t0 < max) {
          n = p.msgs.length;
          await new Promise((r) => setTimeout(r, ms));
        }
        return p.msgs;
      },
    };
    p.closed = new Promise((res) => ws.on('close', (code, reason) => res({ code, reason: reason.toString() })));
    ws.on('upgrade', (res) => {
      p.extensions = res.headers['sec-websocket-extensions'] || '';
      const sc = res.headers['set-cookie'];
      if (sc && sc.length) {
        p.setCookie = sc[0];
        p.cookie = sc[0].split(';')[0];
      }
    });
    ws.on('message', (data, isBinary) => {
      const text = data.toString();
      let j;
      try { j = JSON.parse(text); } catch { j = { unparsable: text }; }
      if (isBinary) j = { binary: text };
      p.msgs.push(j);
    });
    ws.once('open', () => resolve(p));
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        const e = new Error(`handshake answered ${res.statusCode}: ${body}`);
        e.status = res.statusCode;
        e.body = body;
        e.headers = res.headers;
        reject(e);
      });
    });
    ws.once('error', reject);
  });
}

// A client frame (masked), for bytes the ws library will not send for us.
function rawFrame(opcode, payload, fin = true) {
  const mask = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const len = payload.length;
  let head;
  if (len < 126) {
    head = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | len]);
  } else if (len < 65536) {
    head = Buffer.alloc(4);
    head[0] = (fin ? 0x80 : 0) | opcode; head[1] = 0x80 | 126; head.writeUInt16BE(len, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = (fin ? 0x80 : 0) | opcode; head[1] = 0x80 | 127; head.writeBigUInt64BE(BigInt(len), 2);
  }
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = payload[i] ^ mask[i % 4];
  return Buffer.concat([head, mask, body]);
}

// Text frames the host made from engine output carry these (PROTOCOL.md).
const SPECIALS = new Set(['clear', 'noecho']);
function checkTextFrame(assert, m) {
  assert.strictEqual(m.type, 'text');
  assert.ok(Number.isInteger(m.seq) && m.seq >= 1, `seq ${m.seq}`);
  assert.strictEqual(typeof m.text, 'string');
  assert.ok(Array.isArray(m.special), 'special must be an array');
  for (const s of m.special) assert.ok(SPECIALS.has(s), `unknown special ${s}`);
  for (const k of ['location', 'location_image', 'npcs', 'items', 'exits']) {
    if (k in m) assert.strictEqual(typeof m[k], 'string', `${k} must be a string`);
  }
  if ('turns' in m) assert.ok(Number.isInteger(m.turns) && m.turns >= 0, `turns ${m.turns}`);
}

function checkDataFrame(assert, m) {
  assert.strictEqual(m.type, 'data');
  assert.ok(Number.isInteger(m.seq) && m.seq >= 1);
  assert.strictEqual(typeof m.id, 'string');
  assert.ok(m.id.length > 0);
  assert.strictEqual(typeof m.data, 'string');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// SIGTERM the host and check it ended cleanly: exit 0 (under ASan/LSan a
// memory error or leak makes it non-zero) and no sanitizer report.
async function stopClean(assert, host) {
  const r = await host.stop();
  assert.strictEqual(r.signal, null, 'killed instead of exiting');
  assert.strictEqual(r.code, 0, host.stderr().slice(-3000));
  assert.doesNotMatch(host.stderr(), /Sanitizer|runtime error/);
}

module.exports = { connect, wsUrl, rawFrame, checkTextFrame, checkDataFrame, sleep, stopClean };
