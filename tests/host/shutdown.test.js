// SIGTERM with clients connected: WebSocket closed with 1001, SSE stream
// ended, idle keep-alive closed, exit 0 within 5 seconds.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const net = require('net');
const http = require('http');
const WebSocket = require('ws');
const { startHost, configWith } = require('../lib/harness');

test('SIGTERM with WebSocket, SSE and idle clients exits 0 within 5 s', async () => {
  // MUD mode: the WS and SSE clients each get a seat (in IF mode one would take over the other).
  const host = await startHost({ config: configWith(['static', 'ws', 'sse'], { mode: 'mud' }) });
  try {
    // 1. a WebSocket player
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/tale/ws`, { headers: { Origin: host.url } });
    const wsClosed = new Promise((res) => ws.on('close', (code) => res(code)));
    await new Promise((res, rej) => { ws.once('message', res); ws.once('error', rej); });

    // 2. an SSE stream
    const sseEnded = new Promise((res, rej) => {
      http.get(`${host.url}/tale/eventsource`, (resp) => {
        resp.on('data', () => {});
        resp.on('end', () => res('end'));
        resp.on('error', () => res('error'));
        resp.on('close', () => res('close'));
      }).on('error', rej);
    });

    // 3. an idle connection that sent nothing
    const idle = net.connect(host.port, '127.0.0.1');
    const idleClosed = new Promise((res) => idle.on('close', res));
    await new Promise((res) => idle.on('connect', res));
    await new Promise((res) => setTimeout(res, 300));

    const r = await host.stop('SIGTERM', 8000);
    assert.strictEqual(r.signal, null, 'killed instead of exiting');
    assert.strictEqual(r.code, 0, host.stderr());
    assert.ok(r.ms < 5000, `took ${r.ms} ms`);
    assert.strictEqual(await wsClosed, 1001);
    assert.ok(['end', 'close'].includes(await sseEnded));
    await idleClosed;
    assert.match(host.stderr(), /shutting down \(SIGTERM\)/);
  } finally {
    await host.stop('SIGKILL');
  }
});

test('SIGINT on an idle server exits 0 at once', async () => {
  const host = await startHost({ config: configWith(['static']) });
  const r = await host.stop('SIGINT', 8000);
  assert.strictEqual(r.code, 0, host.stderr());
  assert.ok(r.ms < 2000, `took ${r.ms} ms`);
  assert.match(host.stderr(), /bye/);
});
