// lib.js - tools for the hostile-input battery: raw HTTP and WebSocket over
// plain sockets (so we can send what no well-behaved client library would),
// a bystander player who must keep playing throughout, and /proc probes.
//
//   const r = await rawHttp(port, 'GET / HTTP/1.1\r\n...');   // { status, head, body, closed }
//   const c = await wsRaw(port);  c.send(frame(1, 'look'));  await c.waitClose();
//   const b = await bystander(host);  ...  await b.stop();    // asserts it got every answer
'use strict';
const net = require('net');
const fs = require('fs');
const crypto = require('crypto');
const assert = require('node:assert');
const path = require('path');
const WebSocket = require('ws');
const { SRC } = require('../lib/harness');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function rssKb(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}
function fdCount(pid) {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}
// AddressSanitizer keeps freed memory in quarantine: RSS says nothing there.
function underSanitizer(pid) {
  return /libasan|clang_rt\.asan/.test(fs.readFileSync(`/proc/${pid}/maps`, 'utf8'));
}

// Send `data` on a fresh connection; collect the answer until the peer closes,
// a complete response arrived (when `whole` is false), or `ms` passed.
function rawHttp(port, data, { ms = 5000, wait = false } = {}) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let done = false;
    const t0 = Date.now();
    const finish = (how) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      const text = buf.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const head = end >= 0 ? text.slice(0, end) : text;
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      resolve({ status: m ? Number(m[1]) : null, head, body: end >= 0 ? text.slice(end + 4) : '', text, how, ms: Date.now() - t0 });
    };
    const complete = () => {
      const text = buf.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return false;
      if (/^HTTP\/1\.[01] (204|304)/.test(text)) return true;
      const len = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
      return len && text.length >= end + 4 + Number(len[1]);
    };
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!wait && complete()) finish('complete');
    });
    s.on('close', () => finish('closed'));
    s.on('error', () => finish('error'));
    const timer = setTimeout(() => finish('timeout'), ms);
    s.write(data);
  });
}

// header value (lower-cased name) from a raw head
function header(head, name) {
  const m = new RegExp(`\\r\\n${name}: *([^\\r]*)`, 'i').exec(head);
  return m ? m[1] : null;
}

// ---- WebSocket frames by hand (RFC 6455 section 5.2) ----

function frame(opcode, payload = Buffer.alloc(0), { fin = true, rsv = 0, mask = true, len } = {}) {
  payload = Buffer.from(payload);
  const n = len !== undefined ? BigInt(len) : BigInt(payload.length);
  const b0 = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
  const m = mask ? 0x80 : 0;
  let hdr;
  if (n < 126n) hdr = Buffer.from([b0, m | Number(n)]);
  else if (n < 65536n) {
    hdr = Buffer.from([b0, m | 126, 0, 0]);
    hdr.writeUInt16BE(Number(n), 2);
  } else {
    hdr = Buffer.alloc(10);
    hdr[0] = b0;
    hdr[1] = m | 127;
    hdr.writeBigUInt64BE(n, 2);
  }
  if (!mask) return Buffer.concat([hdr, payload]);
  const key = crypto.randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= key[i & 3];
  return Buffer.concat([hdr, key, body]);
}

function closeFrame(code, reason = '') {
  const p = Buffer.alloc(2 + Buffer.byteLength(reason));
  p.writeUInt16BE(code, 0);
  p.write(reason, 2);
  return frame(8, p);
}

// Split server frames (unmasked) off the front of buf.
function parseFrames(buf) {
  const out = [];
  let o = 0;
  while (o + 2 <= buf.length) {
    const op = buf[o] & 0x0f;
    let len = buf[o + 1] & 0x7f;
    let p = o + 2;
    if (len === 126) {
      if (p + 2 > buf.length) break;
      len = buf.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      if (p + 8 > buf.length) break;
      len = Number(buf.readBigUInt64BE(p));
      p += 8;
    }
    if (p + len > buf.length) break;
    const payload = buf.subarray(p, p + len);
    const f = { op, fin: !!(buf[o] & 0x80), len };
    if (op === 8) {
      f.code = len >= 2 ? payload.readUInt16BE(0) : null;
      f.reason = payload.subarray(2).toString();
    } else if (op === 1) {
      f.text = payload.toString();
      try { f.json = JSON.parse(f.text); } catch { f.json = null; }
    }
    out.push(f);
    o = p + len;
  }
  return { frames: out, rest: buf.subarray(o) };
}

// A WebSocket client on a raw socket: a real handshake, then whatever bytes we like.
function wsRaw(port, { path = '/tale/ws', cookie } = {}) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const key = crypto.randomBytes(16).toString('base64');
    let buf = Buffer.alloc(0);
    let head = null;
    const c = {
      sock: s,
      frames: [],
      closed: false,
      send(b) { if (!s.destroyed) s.write(b); },
      text(t) { c.send(frame(1, Buffer.from(t))); },
      // first frame (at or after index `from`) matching pred
      waitFor(pred, { ms = 5000, from = 0 } = {}) {
        const t0 = Date.now();
        return new Promise((res, rej) => {
          const poll = () => {
            for (let i = from; i < c.frames.length; i++) if (pred(c.frames[i])) return res(c.frames[i]);
            if (Date.now() - t0 > ms) {
              const seen = c.frames.slice(from).map((f) => ({ op: f.op, code: f.code, text: f.text && f.text.slice(0, 120) }));
              return rej(new Error(`no matching frame in ${ms} ms; closed=${c.closed}; got ${JSON.stringify(seen).slice(0, 1200)}`));
            }
            setTimeout(poll, 10);
          };
          poll();
        });
      },
      // resolves { code, reason, tcpClosed } : the close frame (null if the
      // server dropped the socket without one) once the TCP connection ended.
      async waitClose(ms = 5000) {
        await Promise.race([c.closedP, sleep(ms)]);
        const f = c.frames.find((x) => x.op === 8);
        return { frame: f || null, code: f ? f.code : null, reason: f ? f.reason : null, tcpClosed: c.closed };
      },
      destroy() { s.destroy(); },
    };
    c.closedP = new Promise((res) => s.on('close', () => { c.closed = true; res(); }));
    s.on('error', () => {});
    s.setNoDelay(true);
    s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${cookie ? `Cookie: ${cookie}\r\n` : ''}\r\n`);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (head === null) {
        const i = buf.indexOf('\r\n\r\n');
        if (i < 0) return;
        head = buf.subarray(0, i).toString('latin1');
        buf = buf.subarray(i + 4);
        c.head = head;
        if (!/^HTTP\/1\.1 101/.test(head)) {
          s.destroy();
          reject(new Error(`handshake answered: ${head}`));
          return;
        }
        resolve(c);
      }
      const r = parseFrames(buf);
      buf = r.rest;
      const at = Date.now();
      for (const f of r.frames) f.at = at;
      c.frames.push(...r.frames);
    });
    setTimeout(() => { if (head === null) { s.destroy(); reject(new Error('no handshake answer in 5 s')); } }, 5000);
  });
}

// A player (MUD mode: a seat of their own) connected with a real client for
// the whole test.  It sends `look` every `every` ms and times each answer;
// stop() closes it and asserts that every command was answered within maxMs.
async function bystander(host, { every = 400, maxMs = 2500 } = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${host.port}/tale/ws`, { origin: host.url });
  const msgs = [];
  ws.on('message', (d) => { try { msgs.push(JSON.parse(d.toString())); } catch { /* not ours */ } });
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  const b = { ws, msgs, rounds: 0, worst: 0, failures: [] };
  const waitText = (from, ms) => new Promise((res) => {
    const t0 = Date.now();
    const poll = () => {
      for (let i = from; i < msgs.length; i++) if (msgs[i].type === 'text' && /txt-userinput'>look</.test(msgs[i].text)) return res(Date.now() - t0);
      if (Date.now() - t0 > ms || ws.readyState !== WebSocket.OPEN) return res(null);
      setTimeout(poll, 5);
    };
    poll();
  });
  let running = true;
  // One `look` in flight at a time: the answer time is the game's latency for this player.
  b.loop = (async () => {
    while (running) {
      const from = msgs.length;
      if (ws.readyState !== WebSocket.OPEN) {
        b.failures.push(`bystander's socket closed (readyState ${ws.readyState})`);
        return;
      }
      ws.send(JSON.stringify({ cmd: 'look' }));
      const ms = await waitText(from, maxMs);
      b.rounds++;
      if (ms === null) b.failures.push(`look #${b.rounds} unanswered within ${maxMs} ms`);
      else b.worst = Math.max(b.worst, ms);
      await sleep(every);
    }
  })();
  // Assert the bystander is still answered right now (one extra round trip).
  b.check = async () => {
    assert.deepStrictEqual(b.failures, [], 'the bystander kept playing');
    const from = msgs.length;
    const ms = await waitText(from, maxMs + every + 200);
    assert.ok(ms !== null, 'the bystander still gets answers');
  };
  b.stop = async () => {
    running = false;
    await b.loop;
    ws.close();
    assert.deepStrictEqual(b.failures, [], 'the bystander kept playing');
    assert.ok(b.rounds > 0);
  };
  return b;
}

// SIGTERM the host after a battery: it must shut down cleanly (exit 0) and
// its stderr, read to the end, must hold no sanitizer report (leaks show at exit).
async function stopClean(host) {
  const closed = new Promise((res) => {
    if (host.proc.stderr.readableEnded || host.proc.stderr.destroyed) res();
    else host.proc.stderr.once('close', res);
  });
  const r = await host.stop();
  await Promise.race([closed, sleep(2000)]);
  assert.doesNotMatch(host.stderr(), /ERROR: (Address|Leak)Sanitizer|runtime error:|Assertion .* failed|SEGV/, 'no sanitizer report');
  assert.strictEqual(r.code, 0, `the host exits 0 after SIGTERM (${r.code ?? r.signal})`);
  fs.rmSync(host.dir, { recursive: true, force: true }); // the harness's temp config and data_dir
  return r;
}

// The bundled story's location id -> title (each location's "- id:" then "title:").
function locationTitles() {
  const text = fs.readFileSync(path.join(SRC, 'conf/stories/lighthouse/story.yaml'), 'utf8');
  const locs = text.slice(text.indexOf('\nlocations:'));
  const map = {};
  const re = /\n {2}- id: (\S+)\n {4}title: ([^\n]+)/g;
  let m;
  while ((m = re.exec(locs)) !== null) map[m[1]] = m[2].trim();
  return map;
}

// A saved game's player location id, after checking the file is a whole save of one player.
function readSave(file) {
  const text = fs.readFileSync(file, 'utf8');
  let save;
  try {
    save = JSON.parse(text);
  } catch (e) {
    assert.fail(`${file} is not a complete save (${e.message}): ${text.length} bytes, ends ${JSON.stringify(text.slice(-40))}`);
  }
  assert.strictEqual(save.format, 'tale-save');
  assert.strictEqual(save.version, 1);
  assert.ok(Array.isArray(save.players) && save.players.length === 1, 'one player saved');
  return save.players[0].location;
}

module.exports = { locationTitles, readSave, sleep, stopClean, rssKb, fdCount, underSanitizer, rawHttp, header, frame, closeFrame, parseFrames, wsRaw, bystander };
