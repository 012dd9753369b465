// tintin.test.js - a real MUD client, TinTin++, over telnet:
//  1. plays the bundled story's walkthrough to its ending and quits, in IF
//     mode and in a MUD after creating an account;
//  2. in a MUD, a WebSocket player in the same room sees the TinTin++ player
//     and they talk (`say`) both ways.
//
// tt++ insists on a terminal: it runs under script(1), which gives it a pty
// (100 columns, so NAWS has something to say).  A missing tt++ or script
// fails the test: it never skips.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const { connect } = require('../ws/client');
const { startTelnetHost } = require('./lib');
const { SRC } = require('../lib/harness');

const TT = process.env.TINTIN || '/usr/games/tt++';
const STEP_S = 0.25; // seconds between walkthrough commands

function need(file) {
  assert.ok(fs.existsSync(file), `${file} is missing: install the Debian package that has it (scripts/install-deps.sh)`);
}

// Run tt++ on a script of [seconds, command] steps sent to a session on
// `port`; it ends itself at `endS`.  Resolves with the session log.
async function tintin(dir, port, steps, endS) {
  need(TT);
  need('/usr/bin/script');
  const log = path.join(dir, `tt-${port}.log`);
  const lines = [
    '#config {log} {plain}',
    // defined before the session, so it runs even after the session died
    `#delay ${endS.toFixed(2)} {#end}`,
    `#session t 127.0.0.1 ${port}`,
    `#log overwrite ${log}`,
    ...steps.map(([s, cmd]) => `#delay ${s.toFixed(2)} {#send {${cmd}}}`),
  ];
  const script = path.join(dir, `run-${port}.tin`);
  fs.writeFileSync(script, lines.join('\n') + '\n');
  const tt = spawn('/usr/bin/script', ['-qfec', `stty cols 100 rows 30; exec ${TT} -G ${script}`, '/dev/null'],
    { stdio: ['pipe', 'ignore', 'ignore'] });
  const exited = new Promise((res) => tt.on('exit', (code, sig) => res({ code, sig })));
  const killer = setTimeout(() => tt.kill('SIGKILL'), (endS + 10) * 1000);
  return {
    done: exited.then((r) => {
      clearTimeout(killer);
      tt.stdin.end();
      assert.ok(fs.existsSync(log), `tt++ wrote no log (exit ${JSON.stringify(r)})`);
      assert.notStrictEqual(r.sig, 'SIGKILL', 'tt++ did not end by itself (#end)');
      return fs.readFileSync(log, 'utf8');
    }),
  };
}

const WALK = fs.readFileSync(path.join(SRC, 'conf/stories/lighthouse/WALKTHROUGH.txt'), 'utf8')
  .split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

test('TinTin++ plays the walkthrough to the ending and quits', async () => {
  const host = await startTelnetHost({ mode: 'if' });
  try {
    const walk = WALK;
    const steps = walk.map((cmd, i) => [1 + i * STEP_S, cmd]);
    steps.push([2 + walk.length * STEP_S, 'quit']);
    const tt = await tintin(host.dir, host.telnetPort, steps, 4 + walk.length * STEP_S);
    const out = await tt.done;
    assert.match(out, /The Jetty/, 'the first look');
    assert.match(out, /You take the winding crank\./, 'the walk went the right way');
    assert.match(out, /The light is turning\./, `the ending was reached:\n${out.slice(-3000)}`);
    assert.match(out, /The game has ended\./, 'quit ended the game');
    // NAWS: tt++ said 100 columns, so some line is longer than the 80 a client without NAWS gets
    assert.ok(out.split('\n').some((l) => l.length > 80 && l.length <= 100), 'text wrapped at the NAWS width');
  } finally {
    const st = await host.stop();
    assert.strictEqual(st.code, 0, `host exit:\n${host.stderr().slice(-2000)}`);
  }
});

// A MUD with accounts: the walkthrough works for a player in a fresh shared
// world (the storm lantern Agnes gives lights the tower stair).
test('TinTin++ creates an account in a MUD, plays the walkthrough to the ending and quits', async () => {
  const host = await startTelnetHost({ mode: 'mud', extra: 'accounts: required' });
  try {
    const login = [[1, ''], [1.5, 'create'], [2, 'Rowan'], [2.5, 'hunter2hunter2'], [3, 'hunter2hunter2']];
    const start = 5; // Argon2id has hashed the password by then
    const steps = [...login, ...WALK.map((cmd, i) => [start + i * STEP_S, cmd])];
    steps.push([start + 1 + WALK.length * STEP_S, 'quit']);
    const tt = await tintin(host.dir, host.telnetPort, steps, start + 3 + WALK.length * STEP_S);
    const out = await tt.done;
    assert.match(out, /Type create/, 'the greeting');
    assert.match(out, /Choose a password[\s\S]*same password again/, 'the password questions');
    assert.match(out, /Rowan/, 'the account was made');
    assert.match(out, /You take the winding crank\./, 'the walk went the right way (the stair was lit)');
    assert.match(out, /The light is turning\./, `the ending was reached:\n${out.slice(-3000)}`);
    assert.match(out, /You have left the game\./, 'quit ended the session');
  } finally {
    const st = await host.stop();
    assert.strictEqual(st.code, 0, `host exit:\n${host.stderr().slice(-2000)}`);
  }
});

test('a WebSocket player and a TinTin++ player in the same room see and talk to each other', async () => {
  const host = await startTelnetHost({ mode: 'mud' });
  try {
    // The web player waits at the jetty, where every new player starts.
    const web = await connect(host);
    await web.waitFor((m) => m.type === 'text' && /The Jetty/.test(m.text));
    const tt = await tintin(host.dir, host.telnetPort, [[1, 'look'], [1.5, 'say hello from tintin'], [5, 'quit']], 7);

    // The web player sees the telnet player arrive and speak, and answers.
    const { msg } = await web.waitFor((m) => m.type === 'text' && /hello from tintin/.test(m.text), { ms: 8000 });
    const speaker = /([A-Z][\w ]*?) says/.exec(msg.text.replace(/<[^>]*>/g, ''));
    assert.ok(speaker, `a "says" line: ${msg.text}`);
    web.send({ cmd: 'say hello from the web' });

    const out = await tt.done;
    assert.match(out, /\bWren(?! 2)\b[^\n]*(is|are) here/, 'the telnet player sees the web player in the room');
    assert.match(out, /says: .hello from the web/, 'the web player was heard in TinTin++');
    assert.match(out, /You have left the game\./, 'quit ended the session');
    await web.waitFor((m) => m.type === 'text' && new RegExp(`${speaker[1]} leaves`).test(m.text), { ms: 5000 });
    web.ws.close();
  } finally {
    const st = await host.stop();
    assert.strictEqual(st.code, 0, `host exit:\n${host.stderr().slice(-2000)}`);
  }
});
