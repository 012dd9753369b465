// lib.js - helpers for the accounts tests: a host with accounts on, and the
// login dialogue typed by a WebSocket or an SSE player.
'use strict';
const { startHost, configWith } = require('../lib/harness');

function accountsConfig(plugins, { accounts = 'required', limits = {}, tick = '200ms' } = {}) {
  return configWith(plugins, {
    mode: 'mud',
    tick,
    extra: `accounts: ${accounts}`,
    limits: { input_rate: 0, new_sessions_per_minute: 0, max_sessions_per_address: 0, ...limits },
  });
}

function startAccountsHost(opts = {}, env = {}) {
  return startHost({ config: accountsConfig(opts.plugins || ['ws', 'sse'], opts), env, timeoutMs: 15000 });
}

const textOf = (m) => (typeof m.text === 'string' ? m.text : '');
const says = (what) => (m) => (what instanceof RegExp ? what.test(textOf(m)) : textOf(m).includes(what));
const noecho = (m) => Array.isArray(m.special) && m.special.includes('noecho');

// Type `line` and wait for an answer matching pred after it; returns that message.
async function ask(p, line, pred, ms = 10000) {
  const from = p.msgs.length;
  p.say(line);
  const { msg } = await p.waitFor(pred, { from, ms });
  return msg;
}

// The whole create dialogue; resolves once the character is in the game.
async function createAccount(p, name, password) {
  await ask(p, 'create', says('Choose a name'));
  const m1 = await ask(p, name, says('Choose a password'));
  if (!noecho(m1)) throw new Error('the password question must carry noecho');
  const m2 = await ask(p, password, says('same password again'));
  if (!noecho(m2)) throw new Error('the second password question must carry noecho');
  return ask(p, password, (m) => typeof m.location === 'string' && m.location !== '', 20000);
}

async function login(p, name, password, pred = (m) => typeof m.location === 'string' && m.location !== '') {
  await ask(p, 'login', says('account name'));
  const m = await ask(p, name, says('Password'));
  if (!noecho(m)) throw new Error('the password question must carry noecho');
  return ask(p, password, pred, 20000);
}

module.exports = { accountsConfig, startAccountsHost, says, noecho, ask, createAccount, login, textOf };
