// loader.test.js - the plugin loader refuses every kind of bad plugin with one
// line naming the plugin, the file and the reason, and drives good plugins
// through init -> start -> stop -> destroy (stop/destroy in reverse order).
//
// Fixture plugins are built by tests/loader/CMakeLists.txt into
// $TALE_TEST_PLUGINS; the host is $TALE_HOST (see tests/lib/harness.js).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startHost, configWith, SRC, HOST_BIN } = require('../lib/harness');

const PLUGINS = process.env.TALE_TEST_PLUGINS || path.join(SRC, 'build', 'test-plugins');
const fixture = (name) => path.join(PLUGINS, name);

// A config with the bundled story, port 0, and the given plugin entries
// ({ name, module, config }).  Returns the text and, per entry name, the
// 1-based line of its "- name:" so we can check the error's location.
function configText(entries) {
  let text = configWith([]);
  for (const e of entries) {
    text += `  - name: ${e.name}\n    module: ${JSON.stringify(e.module)}\n`;
    if (e.config) {
      text += '    config:\n';
      for (const [k, v] of Object.entries(e.config)) text += `      ${k}: ${JSON.stringify(v)}\n`;
    }
  }
  const lines = text.split('\n');
  const lineOf = {};
  for (const e of entries) lineOf[e.name] = lines.indexOf(`  - name: ${e.name}`) + 1;
  return { text, lineOf };
}

const tempDirs = [];
test.after(() => {
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

function writeConfig(entries) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-loader-'));
  tempDirs.push(dir);
  const { text, lineOf } = configText(entries);
  const file = path.join(dir, 'tale.yaml');
  fs.writeFileSync(file, text.replace(/\$\{SRC\}/g, SRC).replace(/\$\{TMP\}/g, dir));
  return { dir, file, lineOf };
}

function checkConfig(entries) {
  const cfg = writeConfig(entries);
  const r = spawnSync(HOST_BIN, ['--check-config', cfg.file], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.error, undefined, `could not run ${HOST_BIN}: ${r.error}`);
  return { ...cfg, status: r.status, signal: r.signal, stderr: r.stderr };
}

// The host's log lines are "TIME LEVEL [component] message".
const errorLines = (stderr) => stderr.split('\n').filter((l) => /^\S+\s+error\s/.test(l));

// Exit 1, and exactly one error line, which names the plugin (with its
// config location), the file and the reason.
function assertRefused(r, { name, file, reason }) {
  assert.equal(r.signal, null, `host died of ${r.signal}:\n${r.stderr}`);
  assert.equal(r.status, 1, `expected exit 1, got ${r.status}:\n${r.stderr}`);
  const errs = errorLines(r.stderr);
  assert.equal(errs.length, 1, `expected one error line, got ${errs.length}:\n${r.stderr}`);
  const line = errs[0];
  assert.ok(line.includes(`'${name}'`), `error line does not name plugin '${name}': ${line}`);
  assert.ok(line.includes(`${r.file}:${r.lineOf[name]}:`), `error line lacks the location ${r.file}:${r.lineOf[name]}: ${line}`);
  assert.ok(line.includes(file), `error line does not name the file ${file}: ${line}`);
  const m = reason.exec(line);
  assert.ok(m, `error line lacks the reason ${reason}: ${line}`);
  return m;
}

test('a module path that does not exist is refused as missing', () => {
  const missing = path.join(os.tmpdir(), 'tale-no-such-dir', 'missing.so');
  const r = checkConfig([{ name: 'gone', module: missing }]);
  assertRefused(r, { name: 'gone', file: missing, reason: /not found|missing/ });
});

test('a module name not on the plugin path is refused as missing', () => {
  const r = checkConfig([{ name: 'gone', module: 'no_such_plugin_xyz' }]);
  assertRefused(r, { name: 'gone', file: 'no_such_plugin_xyz', reason: /not found|missing/ });
});

test('a file that is not a shared object is refused', () => {
  const r = checkConfig([{ name: 'bad', module: fixture('bad.so') }]);
  assertRefused(r, { name: 'bad', file: fixture('bad.so'), reason: /not a shared object|as a shared object/ });
});

test('a shared object without the entry symbol is refused', () => {
  const r = checkConfig([{ name: 'noentry', module: fixture('missing_entry.so') }]);
  assertRefused(r, { name: 'noentry', file: fixture('missing_entry.so'), reason: /entry symbol tale_plugin_entry is missing/ });
});

test('a plugin built for the next ABI major is refused', () => {
  const r = checkConfig([{ name: 'future', module: fixture('abi_major_next.so') }]);
  const m = assertRefused(r, {
    name: 'future', file: fixture('abi_major_next.so'),
    reason: /plugin ABI (\d+)\.\d+, this host speaks ABI (\d+)\.\d+/,
  });
  assert.equal(Number(m[1]), Number(m[2]) + 1, `the plugin's major should be the host's + 1: ${m[0]}`);
});

test('a plugin built against another h2o version is refused', () => {
  const r = checkConfig([{ name: 'oldh2o', module: fixture('h2o_version_wrong.so') }]);
  const m = assertRefused(r, {
    name: 'oldh2o', file: fixture('h2o_version_wrong.so'),
    reason: /built against h2o 1\.7\.3, this host uses h2o (\d+\.\d+\.\d+)/,
  });
  assert.notEqual(m[1], '1.7.3');
});

test('a plugin built for a newer minor than the host\'s is refused', () => {
  const r = checkConfig([{ name: 'newer', module: fixture('abi_minor_next.so') }]);
  const m = assertRefused(r, {
    name: 'newer', file: fixture('abi_minor_next.so'),
    reason: /built for plugin ABI (\d+)\.(\d+), newer than this host's ABI (\d+)\.(\d+); rebuild it/,
  });
  assert.equal(m[1], m[3]);
  assert.equal(Number(m[2]), Number(m[4]) + 4);
});

test('a plugin built against another h2o build of the same version is refused, naming each difference', () => {
  const r = checkConfig([{ name: 'otherh2o', module: fixture('build_wrong.so') }]);
  const m = assertRefused(r, {
    name: 'otherh2o', file: fixture('build_wrong.so'),
    reason: /built against a different h2o build \(h2o has no stable ABI\): H2O_USE_LIBUV plugin 1, host 0; sizeof\(h2o_socket_t\) plugin (\d+), host (\d+)$/,
  });
  assert.equal(Number(m[1]), Number(m[2]) + 8);
});

test('a plugin compiled against the ABI 1.1 header loads with a warning and works', async () => {
  const file = fixture('abi11.so');
  const { text } = configText([{ name: 'old', module: file, config: { path: '/old', status: 203 } }]);
  const host = await startHost({ config: text });
  tempDirs.push(host.dir);
  let stopped = false;
  try {
    const warn = host.stderr().split('\n').filter((l) => /^\S+\s+warn\s/.test(l) && l.includes(file));
    assert.equal(warn.length, 1, host.stderr());
    assert.match(warn[0], /'old'.*built for plugin ABI 1\.1, which records no build signature/);
    assert.match(host.stderr(), /abi11 plugin ready on \/old/);
    const res = await fetch(`${host.url}/old/x`);
    assert.equal(res.status, 203);
    assert.match(await res.text(), /^abi11 story=\S.* host=1\.\d+ request_stop=yes\n$/);
    const r = await host.stop();
    stopped = true;
    assert.equal(r.code, 0, host.stderr());
  } finally {
    if (!stopped) await host.stop('SIGKILL');
  }
});

test('an init failure is refused with the plugin\'s own message', () => {
  const r = checkConfig([{ name: 'frob', module: fixture('init_error.so') }]);
  assertRefused(r, { name: 'frob', file: fixture('init_error.so'), reason: /init failed: cannot open the frobnicator/ });
});

test('a second plugin mounting the same path is refused', () => {
  const r = checkConfig([
    { name: 'dup1', module: fixture('dup_mount.so'), config: { path: '/same' } },
    { name: 'dup2', module: fixture('dup_mount.so'), config: { path: '/same' } },
  ]);
  assertRefused(r, { name: 'dup2', file: fixture('dup_mount.so'), reason: /\/same is already mounted by plugin 'dup1'/ });
});

test('a config error inside a plugin\'s own settings is located at the key', () => {
  const r = checkConfig([
    { name: 'life', module: fixture('lifecycle.so'), config: { log: 'life.log', colour: 'blue' } },
  ]);
  const keyLine = fs.readFileSync(r.file, 'utf8').split('\n').indexOf('      colour: "blue"') + 1;
  assert.ok(keyLine > 0);
  const m = assertRefused(r, { name: 'life', file: fixture('lifecycle.so'), reason: /init failed: (.+):(\d+):\d+: unknown key 'colour'/ });
  assert.equal(m[1], r.file);
  assert.equal(Number(m[2]), keyLine);
});

test('a config table row\'s bounds are checked by the host and located at the value', () => {
  const r = checkConfig([{ name: 'events', module: 'sse', config: { keepalive: '5ms' } }]);
  const valueLine = fs.readFileSync(r.file, 'utf8').split('\n').indexOf('      keepalive: "5ms"') + 1;
  const m = assertRefused(r, {
    name: 'events', file: 'sse',
    reason: /init failed: (.+):(\d+):\d+: expected a duration from 10 ms to 3600000 ms for 'keepalive', got 5 ms$/,
  });
  assert.equal(m[1], r.file);
  assert.equal(Number(m[2]), valueLine);
});

test('a config table refuses a key no row names, listing the keys it has', () => {
  const r = checkConfig([{ name: 'raw', module: fixture('rawsock.so'), config: { hold: true, holdd: true } }]);
  assertRefused(r, {
    name: 'raw', file: fixture('rawsock.so'),
    reason: /init failed: .+:\d+:\d+: unknown key 'holdd' \(expected one of: port, port_file, goodbye, hold\)/,
  });
});

test('a config table row of the wrong type is located at the value', () => {
  const r = checkConfig([{ name: 'raw', module: fixture('rawsock.so'), config: { port: 70000 } }]);
  assertRefused(r, { name: 'raw', file: fixture('rawsock.so'), reason: /init failed: .+:\d+:\d+: expected an integer from 0 to 65535 for 'port', got '70000'/ });
});

// Each tag's calls, in the order they were recorded.
function readLifecycle(file) {
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

test('a plugin loaded before a refused one is destroyed, never started', () => {
  const r = checkConfig([
    { name: 'good', module: fixture('lifecycle.so'), config: { log: 'life.log', tag: 'good' } },
    { name: 'frob', module: fixture('init_error.so') },
  ]);
  assertRefused(r, { name: 'frob', file: fixture('init_error.so'), reason: /cannot open the frobnicator/ });
  assert.deepEqual(readLifecycle(path.join(r.dir, 'life.log')), ['good init', 'good destroy']);
});

test('--check-config runs good plugins through the whole lifecycle, stop and destroy reversed', () => {
  const r = checkConfig([
    { name: 'a', module: fixture('lifecycle.so'), config: { log: 'life.log', tag: 'a' } },
    { name: 'b', module: fixture('lifecycle.so'), config: { log: 'life.log', tag: 'b' } },
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(errorLines(r.stderr), []);
  // --check-config runs the whole lifecycle (start mounts paths, which is
  // where duplicates are found), it just never binds a port.
  assert.deepEqual(readLifecycle(path.join(r.dir, 'life.log')),
    ['a init', 'b init', 'a start', 'b start', 'b stop', 'a stop', 'b destroy', 'a destroy']);
});

test('a running host calls init, start, stop, destroy in order, stop and destroy reversed', async () => {
  const { text } = configText([
    // mounted prefix-first on purpose: the longer path must still win
    { name: 'a', module: fixture('lifecycle.so'), config: { log: 'life.log', tag: 'a', path: '/life' } },
    { name: 'b', module: fixture('lifecycle.so'), config: { log: 'life.log', tag: 'b', path: '/life/deeper' } },
  ]);
  const host = await startHost({ config: text });
  tempDirs.push(host.dir);
  let stopped = false;
  try {
    const logFile = path.join(host.dir, 'life.log');
    assert.deepEqual(readLifecycle(logFile), ['a init', 'b init', 'a start', 'b start']);

    const a = await fetch(`${host.url}/life/x`);
    assert.equal(a.status, 200);
    assert.equal(await a.text(), 'lifecycle a\n');
    const b = await fetch(`${host.url}/life/deeper/x`);
    assert.equal(b.status, 200);
    assert.equal(await b.text(), 'lifecycle b\n');

    const res = await host.stop();
    stopped = true;
    assert.equal(res.signal, null, `host died of ${res.signal}:\n${host.stderr()}`);
    assert.equal(res.code, 0, host.stderr());
    assert.deepEqual(readLifecycle(logFile),
      ['a init', 'b init', 'a start', 'b start', 'b stop', 'a stop', 'b destroy', 'a destroy']);
  } finally {
    if (!stopped) await host.stop('SIGKILL');
  }
});
