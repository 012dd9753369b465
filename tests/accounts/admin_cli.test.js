// `tale-host accounts ...` against the database of a running server (issue
// #15): list, lock (refused at login, and a player online is closed at the
// next character save), unlock, reset-password from stdin and --generate,
// delete; clear messages and exit codes for mistakes.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('child_process');
const { HOST_BIN } = require('../lib/harness');
const { connect, stopClean } = require('../ws/client');
const { startAccountsHost, says, ask, createAccount, login } = require('./lib');

function admin(host, args, input) {
  const r = spawnSync(HOST_BIN, ['accounts', ...args, '--config', host.configFile], { input: input ?? '', encoding: 'utf8', timeout: 30000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function player(host) {
  const p = await connect(host);
  p.say = (line) => p.send({ cmd: line });
  await p.waitFor(says('Type create'));
  return p;
}

test('the admin CLI works on the running server\'s accounts', async () => {
  const host = await startAccountsHost({ limits: { character_save: '1s' } });
  const open = [];
  try {
    const a = await player(host);
    open.push(a);
    await createAccount(a, 'Hester', 'hester password');
    const b = await player(host);
    open.push(b);
    await createAccount(b, 'Osric', 'osric password');

    let r = admin(host, ['list']);
    assert.strictEqual(r.code, 0, r.err);
    assert.match(r.out, /^Hester\s/m);
    assert.match(r.out, /^Osric\s/m);

    // lock: a player online is closed at their next save (character_save: 1s after a change)
    r = admin(host, ['lock', 'hester']);
    assert.strictEqual(r.code, 0, r.err);
    assert.match(r.out, /Hester locked/);
    assert.match(admin(host, ['list']).out, /^Hester\s.*locked/m);
    a.say('look');
    const closed = await Promise.race([a.closed, new Promise((res) => setTimeout(() => res({ code: 'none' }), 8000))]);
    assert.strictEqual(closed.code, 4002);
    assert.ok(a.msgs.some(says('locked')) || closed.reason.includes('locked'), 'told why');
    // and refused at login
    const c = await player(host);
    open.push(c);
    await login(c, 'hester', 'hester password', says('locked'));
    r = admin(host, ['unlock', 'Hester']);
    assert.strictEqual(r.code, 0, r.err);
    await login(c, 'hester', 'hester password');

    // reset-password from stdin, then --generate
    r = admin(host, ['reset-password', 'osric'], 'a fresh password\n');
    assert.strictEqual(r.code, 0, r.err);
    assert.ok(!r.out.includes('a fresh password'));
    const d = await player(host);
    open.push(d);
    await login(d, 'osric', 'a fresh password');
    r = admin(host, ['reset-password', 'osric', '--generate']);
    assert.strictEqual(r.code, 0, r.err);
    const generated = r.out.trim();
    assert.match(generated, /^[A-Za-z0-9]{16}$/);
    const e = await player(host);
    open.push(e);
    await login(e, 'osric', generated);
    r = admin(host, ['reset-password', 'osric'], 'short\n');
    assert.strictEqual(r.code, 1);
    assert.match(r.err, /8 to 128/);

    // delete: gone from the list, and its name logs in no more
    r = admin(host, ['delete', 'OSRIC']);
    assert.strictEqual(r.code, 0, r.err);
    assert.doesNotMatch(admin(host, ['list']).out, /Osric/);
    const f = await player(host);
    open.push(f);
    await login(f, 'osric', generated, says('Wrong name or password'));

    // mistakes: clear messages, distinct exit codes
    r = admin(host, ['lock', 'nobody']);
    assert.strictEqual(r.code, 1);
    assert.match(r.err, /no account named Nobody/);
    r = admin(host, ['lock', 'no-such name!']);
    assert.strictEqual(r.code, 1);
    assert.match(r.err, /not an account name/);
    r = admin(host, ['frobnicate']);
    assert.strictEqual(r.code, 2);
    assert.match(r.err, /unknown command 'frobnicate'/);
    r = admin(host, ['lock']);
    assert.strictEqual(r.code, 2);

    for (const p of open) p.ws.terminate();
    await stopClean(assert, host);
    assert.ok(!host.stderr().includes('a fresh password') && !host.stderr().includes(generated));
  } finally {
    for (const p of open) p.ws.terminate();
    await host.stop();
  }
});
