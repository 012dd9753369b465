// Accounts over WebSocket against the real host (issue #15): the greeting,
// every refusal, create, quit and login again to the same place and
// inventory, a second browser taking the character over (4001), and
// `password`.  No password is ever in a frame, nor in the log.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { connect, stopClean } = require('../ws/client');
const { startAccountsHost, says, ask, createAccount, login, textOf } = require('./lib');

const PW = 'correct horse 1';

async function player(host, opts) {
  const p = await connect(host, opts);
  p.say = (line) => p.send({ cmd: line });
  return p;
}

test('accounts over WebSocket: create, refusals, quit, login where they left, takeover 4001, password', async () => {
  const host = await startAccountsHost({ limits: { login_failures_per_minute: 3 } });
  const open = [];
  try {
    const a = await player(host);
    open.push(a);
    await a.waitFor(says('Type create'), { ms: 5000 });
    // refusals while creating
    assert.match(textOf(await ask(a, 'look', says('Type create'))), /login/);
    await ask(a, 'create', says('Choose a name'));
    await ask(a, 'x1', says('3 to 20 letters'));
    await ask(a, 'Bram', says(/already|taken|name/i)); // an NPC's name
    await ask(a, 'cancel', says('Type create'));
    await createAccount(a, 'mira', PW);
    // play: move and take something
    await ask(a, 'north', (m) => m.location === 'The Harbour');
    await ask(a, 'east', (m) => typeof m.location === 'string' && m.location !== 'The Harbour');
    const where = a.msgs[a.msgs.length - 1].location;
    await ask(a, 'examine pool', says(/./));
    await ask(a, 'take boat', says(/./));
    await ask(a, 'inventory', says('boat'));
    const quit = await ask(a, 'quit', says(/./));
    assert.ok(quit);
    const closed = await a.closed;
    assert.strictEqual(closed.code, 4002);

    // a second account may not take a look-alike name; a taken name is refused
    const b = await player(host);
    open.push(b);
    await b.waitFor(says('Type create'));
    await ask(b, 'create', says('Choose a name'));
    await ask(b, 'MIRA', says('Choose a password'));
    await ask(b, PW, says('same password'));
    await ask(b, PW, says('is taken'));
    await ask(b, 'cancel', says('Type create'));
    // wrong password and unknown account read the same
    const wrong = textOf(await login(b, 'mira', 'not the password', says('Wrong name or password')));
    const unknown = textOf(await login(b, 'nobody', 'not the password', says('Wrong name or password')));
    assert.ok(wrong.includes('Wrong name or password') && unknown.includes('Wrong name or password'));

    // login again: same place, same inventory
    const back = await login(b, 'Mira', PW);
    await b.waitFor((m) => m.location === where, { ms: 5000 });
    assert.ok(back);
    await ask(b, 'inventory', says('boat'));

    // a second browser takes the character over; the first is closed with 4001
    const c = await player(host);
    open.push(c);
    await c.waitFor(says('Type create'));
    await login(c, 'mira', PW, (m) => m.location === where);
    const taken = await b.closed;
    assert.strictEqual(taken.code, 4001);
    await ask(c, 'inventory', says('boat'));

    // password: old, new, new again; then the new one logs in
    const q1 = await ask(c, 'password', says('current password'));
    assert.ok(q1.special.includes('noecho'));
    await ask(c, PW, says('new password'));
    await ask(c, 'brand new pass', says('same password again'));
    await ask(c, 'brand new pass', says('password is changed'));
    c.ws.close();
    await c.closed;
    const d = await player(host);
    open.push(d);
    await d.waitFor(says('Type create'));
    await login(d, 'mira', 'brand new pass', (m) => m.location === where);

    // rate limit: three failures for an account block it, with the seconds to wait
    const e = await player(host);
    open.push(e);
    await e.waitFor(says('Type create'));
    await ask(e, 'create', says('Choose a name'));
    await ask(e, 'Tamsin', says('Choose a password'));
    await ask(e, 'pw', says('8 to 128'));
    await ask(e, 'tamsinpass', says('same password'));
    await ask(e, 'tamsinpass', (m) => typeof m.location === 'string' && m.location !== '');
    e.ws.close();
    await e.closed;
    const f = await player(host);
    open.push(f);
    await f.waitFor(says('Type create'));
    for (let i = 0; i < 3; i++) await login(f, 'tamsin', 'wrong guess', says('Wrong name or password'));
    await ask(f, 'login', says('account name'));
    const limited = textOf(await ask(f, 'tamsin', says('Too many failed logins')));
    assert.match(limited, /try again in \d+ seconds/);

    for (const p of open) p.ws.terminate();
    await stopClean(assert, host);
    // never a password in the log
    for (const secret of [PW, 'brand new pass', 'tamsinpass']) assert.ok(!host.stderr().includes(secret), `"${secret}" in the log`);
  } finally {
    for (const p of open) p.ws.terminate();
    await host.stop();
  }
});

test('accounts: optional over WebSocket: a guest plays at once, create keeps the character, login plays an account', async () => {
  const host = await startAccountsHost({ accounts: 'optional' });
  const open = [];
  try {
    const g = await player(host);
    open.push(g);
    await g.waitFor((m) => m.location === 'The Jetty');
    await ask(g, 'north', (m) => m.location === 'The Harbour');
    await ask(g, 'password', says('guest'));
    // create: the guest's character keeps its place under the account's name
    await ask(g, 'create', says('Choose a name'));
    await ask(g, 'Ysolde', says('Choose a password'));
    // a completion asked at a password question is not answered (it would echo what was typed)
    const from = g.msgs.length;
    g.send({ cmd: 'secretpre', autocomplete: 1 });
    await g.quiet(200, 1000);
    assert.ok(!g.msgs.slice(from).some(says('secretpre')), 'a completion echoed a password prefix');
    await ask(g, 'ysolde pass', says('same password'));
    await ask(g, 'ysolde pass', says('Your account is made'));
    await ask(g, 'look', (m) => m.location === 'The Harbour');
    await ask(g, 'quit', says(/./));
    await g.closed;

    // another guest logs in to it: back at the harbour
    const h = await player(host);
    open.push(h);
    await h.waitFor((m) => m.location === 'The Jetty');
    await login(h, 'ysolde', 'ysolde pass', (m) => m.location === 'The Harbour');
    await ask(h, 'create', says('logged in as Ysolde'));
    for (const p of open) p.ws.terminate();
    await stopClean(assert, host);
    assert.ok(!host.stderr().includes('ysolde pass'));
  } finally {
    for (const p of open) p.ws.terminate();
    await host.stop();
  }
});

test('accounts: one name rule, the engine\'s: hyphens and apostrophes, 20 letters, look-alikes by separator', async () => {
  const host = await startAccountsHost();
  const open = [];
  try {
    const a = await player(host);
    open.push(a);
    await a.waitFor(says('Type create'), { ms: 5000 });
    await ask(a, 'create', says('Choose a name'));
    await ask(a, 'Mary--Ann', says('between two'));
    await ask(a, 'abcdefghijklmnopqrstu', says('3 to 20'));
    await ask(a, 'admin', says('word the game'));
    await ask(a, 'Br-am', says('belongs to someone')); // an NPC's name split by a hyphen
    await ask(a, 'cancel', says('Type create'));
    await createAccount(a, "mary-ann o'hara".replace(' ', '-'), PW); // "Mary-Ann-O'Hara": 15 letters, three separators
    await ask(a, 'who', says('Mary-Ann-O&#39;Hara')); // the apostrophe, HTML-escaped
    await ask(a, 'quit', says(/./)); // the character leaves: only the store knows the name now
    await a.closed;

    const b = await player(host);
    open.push(b);
    await b.waitFor(says('Type create'));
    // the same letters without the separators look the same: taken
    await ask(b, 'create', says('Choose a name'));
    await ask(b, "maryannohara", says('Choose a password'));
    await ask(b, PW, says('same password'));
    await ask(b, PW, says('is taken'));
    await ask(b, 'cancel', says('Type create'));
    // a 20-letter name is fine; login finds the hyphenated one in any case
    await createAccount(b, 'Abcdefghijklmnopqrst', PW);
    b.ws.close();
    await b.closed;
    const c = await player(host);
    open.push(c);
    await c.waitFor(says('Type create'));
    await login(c, "MARY-ANN-O'HARA", PW);
    await ask(c, 'who', says('Mary-Ann-O&#39;Hara'));
    for (const p of open) p.ws.terminate();
    await stopClean(assert, host);
  } finally {
    for (const p of open) p.ws.terminate();
    await host.stop();
  }
});
