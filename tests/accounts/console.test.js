// Accounts through the console transport (issue #15): the same dialogue on
// stdin/stdout, since it is the game's own text protocol.  The console's
// seat creates an account, walks, quits; a second run logs in and is where
// it left (the character is saved as it leaves, and at shutdown).  The
// password never appears in what the host prints.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { SRC, HOST_BIN } = require('../lib/harness');

const PW = 'console secret 1';

function startConsole(dir) {
  const config = path.join(dir, 'tale.yaml');
  fs.writeFileSync(config, [
    'mode: mud',
    'accounts: required',
    `story: ${SRC}/conf/stories/lighthouse`,
    `data_dir: ${path.join(dir, 'var')}`,
    'log_level: info',
    'listeners:',
    '  - host: 127.0.0.1',
    '    port: 0',
    'plugins:',
    '  - name: console',
    '    module: console',
    '',
  ].join('\n'));
  const proc = spawn(HOST_BIN, ['--config', config], { stdio: ['pipe', 'pipe', 'pipe'] });
  const c = { proc, out: '', err: '' };
  proc.stdout.on('data', (d) => { c.out += d; });
  proc.stderr.on('data', (d) => { c.err += d; });
  c.exited = new Promise((res) => proc.on('exit', (code, signal) => res({ code, signal })));
  // type a line once the output so far has `want` after what was there before
  c.type = async (line, want, ms = 15000) => {
    const from = c.out.length;
    proc.stdin.write(line + '\n');
    const t0 = Date.now();
    while (!(want instanceof RegExp ? want.test(c.out.slice(from)) : c.out.slice(from).includes(want))) {
      if (Date.now() - t0 > ms) throw new Error(`no "${want}" after "${line}" in ${ms} ms; got: ${c.out.slice(from).slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  c.waitOut = async (want, ms = 15000) => {
    const t0 = Date.now();
    while (!c.out.includes(want)) {
      if (Date.now() - t0 > ms) throw new Error(`no "${want}" in ${ms} ms; got: ${c.out.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return c;
}

test('accounts over the console: create, quit, log in again where they left', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-acct-console-'));
  let c = startConsole(dir);
  try {
    await c.waitOut('Type create');
    await c.type('create', 'Choose a name');
    await c.type('Halvard', 'Choose a password');
    await c.type(PW, 'same password');
    await c.type(PW, 'Jetty');
    await c.type('north', 'Harbour');
    await c.type('quit', /./);
    c.proc.stdin.end(); // a MUD runs on without its console: stop it as an operator would
    c.proc.kill('SIGTERM');
    assert.strictEqual((await c.exited).code, 0, c.err.slice(-2000));
    assert.ok(!c.out.includes(PW) && !c.err.includes(PW), 'the password was printed');

    c = startConsole(dir);
    await c.waitOut('Type create');
    await c.type('login', 'account name');
    await c.type('halvard', 'Password');
    await c.type(PW, 'The Harbour');
    c.proc.stdin.end(); // a MUD runs on without its console: stop it as an operator would
    c.proc.kill('SIGTERM');
    assert.strictEqual((await c.exited).code, 0, c.err.slice(-2000));
    assert.ok(!c.out.includes(PW) && !c.err.includes(PW), 'the password was printed');
  } finally {
    c.proc.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
