// `cmake --install` puts the unit in lib/systemd/system under the prefix,
// its ExecStart naming the installed binary, and the installed unit passes
// `systemd-analyze verify` as it is.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const BUILD = process.env.TALE_BUILD_DIR || path.resolve(__dirname, '../../build');
const CMAKE = process.env.CMAKE_COMMAND || 'cmake';

test('cmake --install --prefix installs a unit that runs the installed tale-host', () => {
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-prefix-'));
  try {
    const r = spawnSync(CMAKE, ['--install', BUILD, '--prefix', prefix], { encoding: 'utf8', timeout: 120000 });
    assert.strictEqual(r.status, 0, r.stdout + r.stderr);
    const unit = path.join(prefix, 'lib/systemd/system/tale-host.service');
    const text = fs.readFileSync(unit, 'utf8');
    assert.match(text, new RegExp(`^ExecStart=${prefix}/bin/tale-host --config /etc/tale/tale.yaml$`, 'm'));
    assert.ok(fs.existsSync(path.join(prefix, 'bin/tale-host')));
    const v = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8', timeout: 60000 });
    if (v.error) throw new Error(`systemd-analyze is needed for this test (Debian: systemd): ${v.error.message}`);
    assert.strictEqual(v.status, 0, v.stdout + v.stderr);
    assert.strictEqual((v.stdout + v.stderr).trim(), '');
  } finally {
    fs.rmSync(prefix, { recursive: true, force: true });
  }
});
