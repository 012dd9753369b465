// session.test.js - the telnet transport against the real host, byte level:
// what it offers, GMCP, MSSP, MCCP2, NAWS wrapping, colour by TTYPE, plain
// text for a client that refuses everything, and the seat rules.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const net = require('net');
const path = require('path');
const { startTelnetHost, telnetClient, sleep, WILL, DO } = require('./lib');
const { makeCert } = require('../lib/harness');
const { connect } = require('../ws/client');

// Wait (up to 5 s) until cond() is true: subnegotiations can trail the text
// they belong to, more so on a loaded machine or under a sanitizer.
async function until(cond, what) {
  for (const t0 = Date.now(); !cond(); await sleep(20))
    if (Date.now() - t0 > 5000) throw new Error(`timed out waiting for ${what}`);
}
const roomInfos = (c) => c.sbs.filter(([o, b]) => o === GMCP && b.toString().startsWith('Room.Info '))
  .map(([, b]) => JSON.parse(b.toString().slice(10)));

const GMCP = 201, MSSP = 70, MCCP2 = 86, NAWS = 31, TTYPE = 24, CHARSET = 42;

test('telnet (MUD): offers, plain text for a client that refuses everything, play, quit', async (t) => {
  const host = await startTelnetHost();
  t.after(() => host.stop());
  const c = await telnetClient(host.telnetPort);
  await c.waitFor(/The Jetty/);
  // offered: DO NAWS, DO TTYPE, WILL CHARSET, WILL GMCP, WILL MSSP, WILL MCCP2
  const offered = (cmd, opt) => c.cmds.some(([a, b]) => a === cmd && b === opt);
  for (const opt of [NAWS, TTYPE]) assert.ok(offered(DO, opt), `DO ${opt}`);
  for (const opt of [CHARSET, GMCP, MSSP, MCCP2]) assert.ok(offered(WILL, opt), `WILL ${opt}`);
  assert.ok(!c.compressed, 'no MCCP2 without DO MCCP2');
  assert.doesNotMatch(c.text, /\x1b\[/, 'no colour for a client that told nothing');
  assert.match(c.text, /\r\n/, 'lines end in CR LF');
  const n = c.cmds.length;
  c.line('north');
  await c.waitFor(/The Harbour/);
  assert.strictEqual(c.cmds.length - n, 1, 'one GA after the prompt, no renegotiation');
  c.line('quit');
  await c.waitFor(/You have left the game\./);
  await c.waitClosed();
});

test('telnet: GMCP Char.Name and Room.Info, MSSP, MCCP2, NAWS width, ANSI by TTYPE', async (t) => {
  const host = await startTelnetHost();
  t.after(() => host.stop());
  const c = await telnetClient(host.telnetPort, {
    accept: [GMCP, MSSP, MCCP2, NAWS, TTYPE, CHARSET], naws: [132, 40], ttype: ['TINTIN++', 'XTERM', 'MTTS 13'],
  });
  await c.waitFor(/The Jetty/);
  assert.ok(c.compressed, 'MCCP2 started');
  assert.strictEqual(c.inflateError, undefined);
  const gmcp = c.sbs.filter(([o]) => o === GMCP).map(([, b]) => b.toString());
  assert.ok(gmcp.some((m) => /^Char\.Name \{"name":"Wren"/.test(m)), `Char.Name: ${gmcp}`);
  const room = gmcp.find((m) => m.startsWith('Room.Info '));
  assert.ok(room, `Room.Info: ${gmcp}`);
  const info = JSON.parse(room.slice(10));
  assert.strictEqual(info.name, 'The Jetty');
  assert.deepStrictEqual(Object.keys(info.exits), ['north']);
  assert.ok(Number.isInteger(info.num) && info.num > 0);
  const mssp = c.sbs.find(([o]) => o === MSSP);
  assert.ok(mssp, 'MSSP sent');
  const vars = mssp[1].toString().split('\x01').slice(1).map((kv) => kv.split('\x02'));
  const m = Object.fromEntries(vars);
  assert.strictEqual(m.NAME, "The Lighthouse Keeper's Daughter");
  assert.match(m.PLAYERS, /^\d+$/);
  assert.match(m.UPTIME, /^\d{10}$/);
  assert.match(c.text, /\x1b\[[0-9;]*m/, 'colour for TINTIN++ / MTTS 13');
  // 132 columns: some line is longer than the default 80
  const plain = c.text.replace(/\x1b\[[0-9;]*m/g, '');
  assert.ok(plain.split('\r\n').some((l) => l.length > 80 && l.length <= 132), 'wrapped at the NAWS width');
  c.line('north');
  await c.waitFor(/The Harbour/);
  await until(() => roomInfos(c).some((r) => r.name === 'The Harbour'), 'Room.Info of The Harbour');
  const rooms = roomInfos(c);
  assert.strictEqual(rooms[rooms.length - 1].name, 'The Harbour');
  c.line('quit');
  await c.waitClosed();
});

test('telnet: GMCP Room.Info exits name their destination rooms (the mapper links rooms)', async (t) => {
  const host = await startTelnetHost();
  t.after(() => host.stop());
  const c = await telnetClient(host.telnetPort, { accept: [GMCP] });
  await c.waitFor(/The Jetty/);
  const rooms = () => c.sbs.filter(([o, b]) => o === GMCP && b.toString().startsWith('Room.Info '))
    .map(([, b]) => JSON.parse(b.toString().slice(10)));
  const jetty = rooms().find((r) => r.name === 'The Jetty');
  assert.ok(jetty, 'Room.Info for the first room');
  c.line('north');
  await c.waitFor(/The Harbour/);
  await until(() => rooms().some((r) => r.name === 'The Harbour'), 'Room.Info of The Harbour');
  const harbour = rooms().find((r) => r.name === 'The Harbour');
  assert.ok(harbour, 'Room.Info for the second room');
  assert.notStrictEqual(jetty.num, harbour.num);
  assert.strictEqual(jetty.exits.north, harbour.num, `north from the Jetty: ${JSON.stringify(jetty)}`);
  assert.strictEqual(harbour.exits.south, jetty.num, `south from the Harbour: ${JSON.stringify(harbour)}`);
  c.line('south');
  await c.waitFor(/The Jetty[\s\S]*The Jetty/);
  await until(() => rooms().filter((r) => r.name === 'The Jetty').length >= 2, 'a second Room.Info of The Jetty');
  const again = rooms().filter((r) => r.name === 'The Jetty');
  assert.strictEqual(again[again.length - 1].num, jetty.num, 'the same room keeps its number');
  // stable across restarts: the number comes from the room's id in the story, not from this run
  const host2 = await startTelnetHost();
  t.after(() => host2.stop());
  const d = await telnetClient(host2.telnetPort, { accept: [GMCP] });
  await d.waitFor(/The Jetty/);
  await until(() => roomInfos(d).length > 0, 'Room.Info after a restart');
  const first = d.sbs.find(([o, b]) => o === GMCP && b.toString().startsWith('Room.Info '));
  assert.strictEqual(JSON.parse(first[1].toString().slice(10)).num, jetty.num, 'the same number after a restart');
  c.line('quit');
  d.line('quit');
  await c.waitClosed();
  await d.waitClosed();
});

test('telnet: GMCP Room.Info tells rooms with one title apart by their exits', async (t) => {
  const host = await startTelnetHost({ story: path.join(__dirname, 'fixtures', 'maze') });
  t.after(() => host.stop());
  const c = await telnetClient(host.telnetPort, { accept: [GMCP] });
  await c.waitFor(/Maze Gate/);
  let seen = 0; // Room.Info messages taken so far: each move sends one more
  const last = async () => {
    await until(() => roomInfos(c).length > seen, 'the next Room.Info');
    const rooms = roomInfos(c);
    seen = rooms.length;
    return rooms[rooms.length - 1];
  };
  const gate = await last();
  c.line('north');
  await c.waitFor(/all alike|Twisty Passage/);
  const a = await last();
  c.line('east');
  await c.waitFor(/all alike/);
  const b = await last();
  assert.strictEqual(a.name, b.name, 'one title');
  assert.notStrictEqual(a.num, b.num, 'two rooms');
  assert.deepStrictEqual(gate.exits, { north: a.num });
  assert.deepStrictEqual(a.exits, { south: gate.num, east: b.num });
  assert.deepStrictEqual(b.exits, { west: a.num, up: gate.num });
  c.line('quit');
  await c.waitClosed();
});

test('telnet: MSSP PLAYERS counts the players of every transport', async (t) => {
  const host = await startTelnetHost();
  t.after(() => host.stop());
  const web = await connect(host);
  await web.waitFor((m) => m.type === 'text' && /The Jetty/.test(m.text));
  const a = await telnetClient(host.telnetPort);
  a.line('look');
  await a.waitFor(/The Jetty/);
  const b = await telnetClient(host.telnetPort, { accept: [MSSP] });
  for (let i = 0; i < 100 && !b.sbs.some(([o]) => o === MSSP); i++) await sleep(20);
  const mssp = b.sbs.find(([o]) => o === MSSP);
  assert.ok(mssp, 'MSSP sent');
  const m = Object.fromEntries(mssp[1].toString().split('\x01').slice(1).map((kv) => kv.split('\x02')));
  assert.strictEqual(m.PLAYERS, '2', 'the web player and the seated telnet player (the asking client has no seat yet)');
  web.ws.close();
  a.line('quit');
  await a.waitClosed();
  b.s.destroy();
});

test('telnet (IF): the seat rules apply; a second connection is refused with a reason', async (t) => {
  const host = await startTelnetHost({ mode: 'if' });
  t.after(() => host.stop());
  const a = await telnetClient(host.telnetPort);
  a.line('');
  await a.waitFor(/The Jetty/);
  const b = await telnetClient(host.telnetPort);
  b.line('look');
  await b.waitFor(/Sorry: someone else is playing this game/);
  await b.waitClosed();
  a.line('look');
  await a.waitFor(/The Jetty[\s\S]*The Jetty/);
  a.close();
});

test('telnet: max_sessions full is answered with a reason, not a hang', async (t) => {
  const host = await startTelnetHost({ limits: { max_sessions: 1 } });
  t.after(() => host.stop());
  const a = await telnetClient(host.telnetPort);
  a.line('look');
  await a.waitFor(/The Jetty/);
  const b = await telnetClient(host.telnetPort);
  b.line('look');
  await b.waitFor(/Sorry: no player seat is free/);
  await b.waitClosed();
  a.close();
});

test('telnet over TLS (tls_cert, tls_key): plays; a plain client or a stalled handshake gets nothing and is closed', async (t) => {
  const certs = makeCert();
  const host = await startTelnetHost({ telnet: { tls_cert: path.join(certs, 'cert.pem'), tls_key: path.join(certs, 'key.pem'),
    login_timeout: '1s' } });
  t.after(() => host.stop());
  const c = await telnetClient(host.telnetPort, { secure: true, accept: [201, 86] });
  c.line('look');
  await c.waitFor(/The Jetty/);
  assert.ok(c.compressed, 'MCCP2 inside TLS');
  // a plain-text client speaks into a TLS port: the handshake fails, no game text leaks
  const p = await telnetClient(host.telnetPort);
  p.line('look');
  await p.waitClosed(3000);
  assert.doesNotMatch(p.text, /Jetty|press Enter/);
  // a client that never starts the handshake is closed at login_timeout
  const s = net.connect(host.telnetPort, '127.0.0.1');
  let closed = false;
  s.on('close', () => { closed = true; });
  s.on('error', () => {});
  await until(() => closed, 'the close at login_timeout');
  assert.ok(closed, 'closed at login_timeout');
  c.line('quit');
  await c.waitClosed();
});
