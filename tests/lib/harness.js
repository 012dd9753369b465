// harness.js - start tale-host on a free loopback port for an integration test.
//
//   const { startHost } = require('../lib/harness');
//   const host = await startHost({ config: yamlText });   // ${SRC} -> repository root
//   ... host.url ('http://127.0.0.1:PORT'), host.port, host.stderr(), host.proc
//   await host.stop();            // SIGTERM, resolves { code, signal, ms }
//
// The config's listener should use port 0: the host picks a free port and
// logs "listening on http://127.0.0.1:PORT", which is how we learn it.
'use strict';
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const SRC = path.resolve(__dirname, '..', '..');
const HOST_BIN = process.env.TALE_HOST || path.join(SRC, 'build', 'tale-host');

function writeConfig(text, dir) {
  const file = path.join(dir, 'tale.yaml');
  fs.writeFileSync(file, text.replace(/\$\{SRC\}/g, SRC).replace(/\$\{TMP\}/g, dir));
  return file;
}

// Start the host; resolve once it listens (or reject with its stderr).
function startHost({ config, args = [], timeoutMs = 10000, env = {} } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-test-'));
  const file = writeConfig(config, dir);
  const proc = spawn(HOST_BIN, ['--config', file, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let err = '';
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`tale-host did not start in ${timeoutMs} ms:\n${err}`));
    }, timeoutMs);
    let started = false;
    proc.stderr.on('data', (d) => {
      err += d;
      if (process.env.TALE_TEST_VERBOSE) process.stderr.write(d);
      const m = !started && /listening on (https?):\/\/(\[[^\]]+\]|[^:\s]+):(\d+)/.exec(err);
      if (m) {
        started = true;
        clearTimeout(timer);
        const port = Number(m[3]);
        resolve({
          proc, dir, configFile: file, port, hostname: m[2], scheme: m[1],
          url: `${m[1]}://${m[2]}:${port}`,
          stderr: () => err,
          stdout: () => out,
          stop: (signal = 'SIGTERM', waitMs = 8000) => stopHost(proc, signal, waitMs),
        });
      }
    });
    proc.on('exit', (code, signal) => {
      if (!started) {
        clearTimeout(timer);
        reject(new Error(`tale-host exited (${code ?? signal}) before listening:\n${err}`));
      }
    });
  });
}

function stopHost(proc, signal, waitMs) {
  const t0 = Date.now();
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      resolve({ code: proc.exitCode, signal: proc.signalCode, ms: 0 });
      return;
    }
    const timer = setTimeout(() => proc.kill('SIGKILL'), waitMs);
    proc.once('exit', (code, sig) => {
      clearTimeout(timer);
      resolve({ code, signal: sig, ms: Date.now() - t0 });
    });
    proc.kill(signal);
  });
}

// A config with the given plugins (subset of 'static', 'ws', 'sse'), port 0,
// the bundled story and a private data dir.  extra: YAML appended at the top level.
// limits: the `limits:` mapping; by default the per-session input rate limit
// is off (input_rate: 0) because most tests type faster than a person; the
// hardening tests that check it pass their own.
function configWith(plugins, { mode = 'if', tick = '1s', pluginConfig = {}, extra = '', limits = { input_rate: 0 } } = {}) {
  const lines = [
    `mode: ${mode}`,
    'story: ${SRC}/conf/stories/lighthouse',
    'data_dir: ${TMP}/var',
    'autosave: false',
    `tick: ${tick}`,
    'log_level: info',
    'listeners:',
    '  - host: 127.0.0.1',
    '    port: 0',
    'limits:',
    ...Object.entries(limits).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
    extra,
    'plugins:',
  ];
  for (const p of plugins) {
    lines.push(`  - name: ${p}`, `    module: ${p}`);
    const cfg = pluginConfig[p] || (p === 'static' ? { web_root: '${SRC}/web' } : null);
    if (cfg) {
      lines.push('    config:');
      for (const [k, v] of Object.entries(cfg)) lines.push(`      ${k}: ${JSON.stringify(v)}`);
    }
  }
  return lines.join('\n') + '\n';
}

// A throwaway self-signed certificate for 127.0.0.1 / localhost in its own
// temp dir: returns the dir, holding cert.pem and key.pem.
function makeCert() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tale-cert-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  return dir;
}

module.exports = { startHost, configWith, makeCert, SRC, HOST_BIN };
