// linger.test.js - a dropped telnet MUD player lingers for limits.linger as a
// WebSocket player does (docs/PROTOCOL.md, "Telnet"): the room is told it
// faded only when linger runs out, an accounts login from a new connection
// takes the character back where it stood, and a client cut off for not
// reading leaves at once.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { startTelnetHost, telnetClient, sleep } = require('./lib');
const { connect } = require('../ws/client');

const plain = (m) => (typeof m.text === 'string' ? m.text.replace(/<[^>]*>/g, '') : '');

// Type a line and wait for `re` in what arrives after it.
async function ask(c, line, re, ms = 15000) {
  const from = c.text.length;
  c.line(line);
  const t0 = Date.now();
  while (!re.test(c.text.slice(from))) {
    if (Date.now() - t0 > ms) throw new Error(`telnet: no ${re} after "${line}"; got:\n${c.text.slice(from).slice(-1500)}`);
    if (c.closed) throw new Error(`telnet closed before ${re}; got:\n${c.text.slice(from).slice(-1500)}`);
    await sleep(10);
  }
}

// The name a telnet player goes by, as a WebSocket player in the room sees it arrive.
async function arrival(web, from) {
  const { msg } = await web.waitFor((m) => m.type === 'text' && /arrives|appears|joins/.test(plain(m)), { from, ms: 5000 });
  return /([A-Z][\w ]*?) (arrives|appears|joins)/.exec(plain(msg))[1];
}

// A WebSocket player at the jetty and a telnet player who joins them there.
async function webAndTelnet(host) {
  const web = await connect(host);
  await web.waitFor((m) => m.type === 'text' && /The Jetty/.test(m.text));
  const from = web.msgs.length;
  const a = await telnetClient(host.telnetPort);
  await ask(a, 'look', /The Jetty/);
  return { web, from, a, name: await arrival(web, from) };
}

test('telnet (MUD): a dropped player lingers for limits.linger, then fades', async (t) => {
  const host = await startTelnetHost({ limits: { linger: '2s' } });
  t.after(() => host.stop());
  const { web, from, a, name } = await webAndTelnet(host);
  a.close(); // the client goes away without a word
  await sleep(1000);
  assert.ok(!web.msgs.slice(from).some((m) => /fades away|leaves the game/.test(plain(m))),
    `nobody was told ${name} left within linger: ${web.msgs.slice(from).map(plain).join(' | ')}`);
  await web.waitFor((m) => m.type === 'text' && new RegExp(`${name} fades away`).test(plain(m)), { from, ms: 8000 });
  web.ws.close();
});

test('telnet (MUD, accounts): a login from a new connection takes the lingering character back', async (t) => {
  const host = await startTelnetHost({ extra: 'accounts: required' });
  t.after(() => host.stop());
  const a = await telnetClient(host.telnetPort);
  await ask(a, '', /Type create/);
  await ask(a, 'create', /Choose a name/);
  await ask(a, 'Bramble', /Choose a password/);
  await ask(a, 'hunter2hunter2', /same password again/);
  await ask(a, 'hunter2hunter2', /The Jetty/, 30000);
  await ask(a, 'north', /The Harbour/);
  a.close();
  await sleep(300);
  const b = await telnetClient(host.telnetPort);
  await ask(b, '', /Type create/);
  await ask(b, 'login', /account name/);
  await ask(b, 'Bramble', /Password/);
  await ask(b, 'hunter2hunter2', /The Harbour/, 30000);
  await ask(b, 'look', /The Harbour/);
  // the character was still in the world (lingering), not faded and reloaded from the store
  assert.match(host.stderr(), /Bramble logged in from another window: the older seat is closed/);
  b.line('quit');
  await b.waitClosed();
});

test('telnet (MUD): a client cut off for not reading leaves the game at once', async (t) => {
  const host = await startTelnetHost({ telnet: { max_backlog: '16k' }, limits: { linger: '60s' } });
  t.after(() => host.stop());
  const { web, from, a, name } = await webAndTelnet(host);
  a.s.pause(); // never reads again
  // the web player talks until the telnet player's unread output (past the
  // kernel's socket buffers) passes max_backlog; bounded: at most 4 MB said
  const said = 'words to fill a backlog '.repeat(36);
  for (let i = 0; i < 250 && !web.msgs.slice(from).some((m) => /fades away/.test(plain(m))); i++) {
    for (let k = 0; k < 20; k++) web.send({ cmd: `say ${said}${i}` });
    await sleep(10);
  }
  await web.waitFor((m) => m.type === 'text' && new RegExp(`${name} fades away`).test(plain(m)), { from, ms: 5000 });
  web.ws.close();
  a.close();
});
