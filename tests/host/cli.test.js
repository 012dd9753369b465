// The command line: --version, --help, unknown flags, --check-config.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const net = require('net');
const { HOST_BIN, SRC, configWith } = require('../lib/harness');

function run(args) {
  return spawnSync(HOST_BIN, args, { encoding: 'utf8', timeout: 20000 });
}

function tmpConfig(text) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-cli-'));
  const file = path.join(dir, 'tale.yaml');
  fs.writeFileSync(file, text.replace(/\$\{SRC\}/g, SRC).replace(/\$\{TMP\}/g, dir));
  return file;
}

test('--version names the host, the plugin ABI and h2o', () => {
  const r = run(['--version']);
  assert.strictEqual(r.status, 0);
  assert.match(r.stdout, /^tale-host \d+\.\d+\.\d+ \(plugin ABI 1\.\d+, h2o 2\.2\.5\)\n$/);
});

test('--help prints usage on stdout and exits 0', () => {
  const r = run(['--help']);
  assert.strictEqual(r.status, 0);
  assert.match(r.stdout, /Usage: tale-host/);
  assert.match(r.stdout, /--check-config FILE/);
});

test('an unknown flag prints usage and exits 2', () => {
  const r = run(['--frobnicate']);
  assert.strictEqual(r.status, 2);
  assert.match(r.stderr, /Usage: tale-host/);
});

test('a stray argument exits 2', () => {
  const r = run(['extra']);
  assert.strictEqual(r.status, 2);
  assert.match(r.stderr, /unexpected argument 'extra'/);
});

test('--check-config accepts the default config and loads every plugin', () => {
  const r = run(['--check-config', path.join(SRC, 'conf', 'tale.yaml')]);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stdout, /tale\.yaml: OK \(3 plugins loaded\)/);
  assert.match(r.stderr, /loaded plugin 'ws'/);
});

test('--check-config binds no port', async () => {
  // Hold a port, then check a config that names it: binding would fail.
  const server = net.createServer();
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  const port = server.address().port;
  const file = tmpConfig(configWith(['ws']).replace('port: 0', `port: ${port}`));
  const r = run(['--check-config', file]);
  server.close();
  assert.strictEqual(r.status, 0, r.stderr);
});

test('--check-config reports a config error located and exits 1', () => {
  const file = tmpConfig(configWith(['ws']).replace('tick: 1s', 'tick: 1s\nfrobnicate: yes'));
  const r = run(['--check-config', file]);
  assert.strictEqual(r.status, 1);
  const lines = r.stderr.trim().split('\n');
  assert.strictEqual(lines.length, 1, r.stderr);
  assert.match(lines[0], /tale\.yaml:\d+:\d+: .*unknown key 'frobnicate'/);
});

test('a deprecated key loads with one warning naming where it is and the new key', () => {
  const file = tmpConfig(configWith(['ws'], { limits: { input_rate: 0, session_idle: '90s' } }));
  const r = run(['--check-config', file]);
  assert.strictEqual(r.status, 0, r.stderr);
  const warnings = r.stderr.split('\n').filter((l) => / warn /.test(l));
  assert.strictEqual(warnings.length, 1, r.stderr);
  assert.match(warnings[0], /tale\.yaml:\d+:\d+: 'session_idle' is deprecated: write 'linger' instead/);
});

test('linger and its deprecated alias together are an error', () => {
  const file = tmpConfig(configWith(['ws'], { limits: { linger: '60s', session_idle: '30m' } }));
  const r = run(['--check-config', file]);
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /'session_idle' is the deprecated name of 'linger'; expected only 'linger', got both/);
});

test('--log-level rejects an unknown level', () => {
  const r = run(['--log-level', 'loud', '--version']);
  assert.strictEqual(r.status, 2);
  assert.match(r.stderr, /unknown log level 'loud'/);
});
