// ranges.test.js - Range request amplification (issue #11, finding 6).  h2o
// 2.2.5's file handler answers every range it is asked for as one multipart
// answer, so `Range: bytes=0-,0-,...` (20,000 times) on a 25 KB file asked
// for 500 MB with a 60 KB request.  The static plugin now serves the whole file
// once, with 200, when a request asks for more than `max_ranges` (default 4)
// ranges or for overlapping ones; a single range and a few disjoint ones are
// still answered 206.  A bystander player plays throughout.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const net = require('net');
const path = require('path');
const { startHost, configWith, SRC } = require('../lib/harness');
const { stopClean, header, bystander } = require('./lib');

const FILE = 'script.js';
const SIZE = fs.statSync(path.join(SRC, 'web', FILE)).size;
// Never read more than this: an unfixed host would send hundreds of MB.
const CAP = 4 * SIZE + 64 * 1024;

let host;
let b;
test.before(async () => {
  host = await startHost({ config: configWith(['static', 'ws'], { mode: 'mud' }) });
  b = await bystander(host);
});
test.after(async () => {
  if (b) await b.stop();
  if (host) await stopClean(host);
});

// GET the file with a Range header; read at most CAP bytes of answer, then
// hang up.  Resolves { status, head, body (Buffer), total, capped }.
function getRange(port, range, { file = FILE } = {}) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks = [];
    let total = 0;
    let done = false;
    const finish = (capped) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      const head = end >= 0 ? all.subarray(0, end).toString('latin1') : all.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      resolve({ status: m ? Number(m[1]) : null, head, body: end >= 0 ? all.subarray(end + 4) : Buffer.alloc(0), total, capped });
    };
    s.on('data', (d) => {
      total += d.length;
      if (total > CAP) return finish(true);
      chunks.push(d);
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = /\r\ncontent-length: *(\d+)/i.exec(all.subarray(0, end).toString('latin1'));
      if (len && all.length >= end + 4 + Number(len[1])) finish(false);
    });
    s.on('close', () => finish(false));
    s.on('error', () => finish(false));
    const timer = setTimeout(() => finish(false), 10000);
    s.write(`GET /tale/static/${file} HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: ${range}\r\n\r\n`);
  });
}

const whole = fs.readFileSync(path.join(SRC, 'web', FILE));

function assertWholeFile(r, what) {
  assert.ok(!r.capped, `${what}: the answer stays bounded (read ${r.total} bytes before hanging up)`);
  assert.strictEqual(r.status, 200, `${what}: 200 with the whole file:\n${r.head}`);
  assert.strictEqual(Number(header(r.head, 'content-length')), SIZE, `${what}: Content-Length is the file's size`);
  assert.strictEqual(header(r.head, 'content-range'), null, `${what}: no Content-Range`);
  assert.ok(r.body.equals(whole), `${what}: the body is the file, once`);
}

test('20,000 copies of the range 0- get the whole file once, with 200', { timeout: 30000 }, async () => {
  const range = 'bytes=' + Array(20000).fill('0-').join(',');
  assert.ok(range.length > 55000);
  assertWholeFile(await getRange(host.port, range), '20,000 overlapping ranges');
  await b.check();
});

test('10,000 tiny disjoint ranges (multipart headers as amplifier) get the whole file once', { timeout: 30000 }, async () => {
  const parts = [];
  for (let i = 0; i < 10000 && 2 * i < SIZE; i++) parts.push(`${2 * i}-${2 * i}`);
  assertWholeFile(await getRange(host.port, 'bytes=' + parts.join(',')), '10,000 one-byte ranges');
});

test('five disjoint ranges (over max_ranges: 4) get the whole file', async () => {
  assertWholeFile(await getRange(host.port, 'bytes=0-9,20-29,40-49,60-69,80-89'), 'five ranges');
});

test('two overlapping ranges, in either order, get the whole file', async () => {
  assertWholeFile(await getRange(host.port, 'bytes=0-99,50-149'), 'overlapping ranges');
  assertWholeFile(await getRange(host.port, 'bytes=500-599, 0-1000'), 'unsorted overlapping ranges');
  assertWholeFile(await getRange(host.port, `bytes=-100,${SIZE - 50}-`), 'a suffix range overlapping an open one');
});

test('a single valid range still gets 206 with exactly those bytes', async () => {
  const r = await getRange(host.port, 'bytes=100-199');
  assert.strictEqual(r.status, 206, r.head);
  assert.strictEqual(header(r.head, 'content-range'), `bytes 100-199/${SIZE}`);
  assert.ok(r.body.equals(whole.subarray(100, 200)));
  const tail = await getRange(host.port, 'bytes=-10');
  assert.strictEqual(tail.status, 206, tail.head);
  assert.ok(tail.body.equals(whole.subarray(SIZE - 10)));
});

test('two and four disjoint ranges still get a 206 multipart answer', async () => {
  const r = await getRange(host.port, 'bytes=0-9,100-109');
  assert.strictEqual(r.status, 206, r.head);
  assert.match(header(r.head, 'content-type'), /^multipart\/byteranges; boundary=/);
  const text = r.body.toString('latin1');
  assert.match(text, new RegExp(`Content-Range: bytes 0-9/${SIZE}`, 'i'));
  assert.match(text, new RegExp(`Content-Range: bytes 100-109/${SIZE}`, 'i'));
  assert.ok(text.includes(whole.subarray(0, 10).toString('latin1')));
  assert.ok(text.includes(whole.subarray(100, 110).toString('latin1')));
  assert.ok(r.body.length < 1024);
  const four = await getRange(host.port, 'bytes=0-0,10-10, ,20-20,30-30');
  assert.strictEqual(four.status, 206, four.head);
});

test('a range beyond the end is still 416', async () => {
  const r = await getRange(host.port, `bytes=${SIZE + 10}-`);
  assert.strictEqual(r.status, 416, r.head);
});

test('max_ranges: 0 turns ranges off: a single range gets the whole file', async () => {
  const h = await startHost({
    config: configWith(['static'], { pluginConfig: { static: { web_root: '${SRC}/web', max_ranges: 0 } } }),
  });
  try {
    assertWholeFile(await getRange(h.port, 'bytes=100-199'), 'max_ranges 0');
  } finally {
    await stopClean(h);
  }
});
