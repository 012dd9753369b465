// prometheus.test.js - a real Prometheus server (Debian's `prometheus`)
// scrapes the host's metrics plugin on loopback every second, with the
// shipped alert rules loaded: its API shows the target up, a tale series
// with the value the host counted, and the rules healthy.  Prometheus runs
// for a few seconds only, with its storage in a temp dir.
'use strict';
const { test, describe, before, after } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const net = require('net');
const path = require('path');
const http = require('http');
const { spawn } = require('child_process');
const { startHost, configWith, SRC } = require('../lib/harness');
const { connect } = require('../ws/client');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function getJson(port, p) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        try { resolve(JSON.parse(body)); } catch (e) { reject(new Error(`${res.statusCode}: ${body}`)); }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

// Poll Prometheus' instant query until `pred` holds for its result (bounded).
async function queryUntil(port, q, pred, ms = 30000) {
  const t0 = Date.now();
  let last;
  while (Date.now() - t0 < ms) {
    try {
      last = await getJson(port, `/api/v1/query?query=${encodeURIComponent(q)}`);
      if (last.status === 'success' && pred(last.data.result)) return last.data.result;
    } catch (e) {
      last = String(e); // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`${q}: no matching result in ${ms} ms; last answer ${JSON.stringify(last)}`);
}

describe('a real Prometheus scrapes the host', () => {
  let host;
  let prom;
  let promPort;
  let promErr = '';
  before(async () => {
    host = await startHost({ config: configWith(['ws', 'metrics'], { mode: 'mud' }) });
    promPort = await freePort();
    const dir = fs.mkdtempSync(path.join(host.dir, 'prom-'));
    const cfg = path.join(dir, 'prometheus.yml');
    fs.writeFileSync(cfg, [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'rule_files:',
      `  - ${path.join(SRC, 'conf/prometheus/tale-alerts.yml')}`,
      'scrape_configs:',
      '  - job_name: tale',
      '    metrics_path: /metrics',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${host.port}']`,
      '',
    ].join('\n'));
    // spawn fails the test (ENOENT) when prometheus is not installed: no silent skip
    prom = spawn('prometheus', [
      `--config.file=${cfg}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    prom.stderr.on('data', (d) => { promErr += d; });
    await new Promise((resolve, reject) => {
      prom.once('error', reject);
      prom.once('spawn', resolve);
    });
  });
  after(async () => {
    if (prom && prom.exitCode === null) {
      const gone = new Promise((r) => prom.once('exit', r));
      prom.kill('SIGTERM');
      const t = setTimeout(() => prom.kill('SIGKILL'), 10000);
      await gone;
      clearTimeout(t);
    }
    if (host) await host.stop();
  });

  test('the target is up and a tale series carries the host\'s count', async () => {
    const p = await connect(host);
    await p.waitFor((m) => m.type === 'text');
    p.send({ cmd: 'look' });
    await p.waitFor((m) => m.type === 'text', { from: 1 });

    const up = await queryUntil(promPort, 'up{job="tale"}', (r) => r.length === 1 && r[0].value[1] === '1').catch((e) => {
      throw new Error(`${e.message}\nprometheus stderr:\n${promErr.slice(-3000)}`);
    });
    assert.strictEqual(up[0].metric.instance, `127.0.0.1:${host.port}`);
    const conns = await queryUntil(promPort, 'tale_connections{transport="ws"}', (r) => r.length === 1 && r[0].value[1] === '1');
    assert.strictEqual(conns[0].metric.job, 'tale');
    await queryUntil(promPort, 'tale_commands_total{transport="ws"}', (r) => r.length === 1 && Number(r[0].value[1]) >= 1);
    await queryUntil(promPort, 'tale_command_duration_seconds_count', (r) => r.length === 1 && Number(r[0].value[1]) >= 1);

    // the shipped rules load and evaluate against these series
    const rules = await getJson(promPort, '/api/v1/rules');
    const group = rules.data.groups.find((g) => g.name === 'tale-host');
    assert.ok(group, JSON.stringify(rules));
    assert.ok(group.rules.length >= 5);
    for (const r of group.rules) assert.notStrictEqual(r.health, 'err', `${r.name}: ${r.lastError}`);
    p.ws.close(1000);
    await p.closed;
  });
});
