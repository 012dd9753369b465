// Accounts over Server-Sent Events with the real EventSource client
// (eventsource@4) and POSTed input (issue #15): the same dialogue as over
// WebSocket, since it is the game's own text protocol.  Create, quit, log
// in again where they left, and a WebSocket login taking the SSE seat over.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { openEventSource, postInput } = require('../sse/client');
const { connect, stopClean } = require('../ws/client');
const { startAccountsHost, says, ask, createAccount, login } = require('./lib');

const PW = 'sse password 1';

// An SSE player with the interface the dialogue helpers use.
async function ssePlayer(host) {
  const es = openEventSource(host.url);
  await es.opened;
  const p = {
    es,
    get msgs() { return es.frames.map((f) => (f.event === 'close' ? { close: f.json } : f.json)); },
    say(line) {
      postInput(host.url, es.jar.cookie, `cmd=${encodeURIComponent(line)}`).then((r) => {
        if (r.status !== 204) p.inputErrors.push(r.status);
      });
    },
    inputErrors: [],
    waitFor(pred, { from = 0, ms = 5000 } = {}) {
      return es.waitFor(() => p.msgs.slice(from).some(pred), ms, 'a matching frame').then(() => {
        const i = p.msgs.findIndex((m, k) => k >= from && pred(m));
        return { msg: p.msgs[i], index: i };
      });
    },
  };
  return p;
}

test('accounts over SSE: create, quit, login where they left; a WebSocket login takes the SSE seat over', async () => {
  const host = await startAccountsHost();
  const open = [];
  try {
    const a = await ssePlayer(host);
    open.push(a);
    await a.waitFor(says('Type create'));
    await createAccount(a, 'Corin', PW);
    await ask(a, 'north', (m) => m.location === 'The Harbour');
    await ask(a, 'quit', says(/./));
    a.es.close();
    assert.deepStrictEqual(a.inputErrors, []);

    const b = await ssePlayer(host);
    open.push(b);
    await b.waitFor(says('Type create'));
    await login(b, 'corin', PW, (m) => m.location === 'The Harbour');

    // the same account from a WebSocket browser: the SSE seat is told and closed
    const w = await connect(host);
    w.say = (line) => w.send({ cmd: line });
    await w.waitFor(says('Type create'));
    await login(w, 'CORIN', PW, (m) => m.location === 'The Harbour');
    const { msg: closed } = await b.waitFor((m) => m.close !== undefined, { ms: 5000 });
    assert.strictEqual(closed.close.code, 4001);
    w.ws.close();
    await w.closed;
    for (const p of open) p.es.close();
    await stopClean(assert, host);
    assert.ok(!host.stderr().includes(PW), 'the password is in the log');
  } finally {
    for (const p of open) p.es.close();
    await host.stop();
  }
});
