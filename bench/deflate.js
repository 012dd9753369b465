#!/usr/bin/env node
// deflate.js - what permessage-deflate (the ws plugin's `deflate`) saves and
// costs: bytes on the wire for the walkthrough, host CPU per frame and host
// RSS per connection, each measured with `deflate: true` and `deflate: false`
// against fresh hosts in the same run.  Bounded in players and time.
//
//   node bench/deflate.js [--players N] [--rounds R] [--json FILE]
//
// The client is node `ws` offering permessage-deflate with threshold 0, as a
// browser does (Chromium compresses every message once it is negotiated), so
// the host inflates every command as well as deflating every frame.
//  1. walkthrough: one IF player plays conf/stories/lighthouse/WALKTHROUGH.txt;
//     bytes the client read (frames from the host) and wrote (its commands);
//     also with `no_context_takeover: false` (a zlib stream per connection).
//  2. crowd: a MUD host, N players connect (RSS per connection once idle,
//     after the ws plugin's 2 s idle release), then every player plays the
//     walkthrough's commands R times at once, one command in flight each;
//     host CPU (utime + stime from /proc) over the frames the players got,
//     and RSS per connection again once they are idle.  Off and on twice,
//     interleaved, then once with `no_context_takeover: false`.
// Host: build/tale-host or $TALE_HOST.
'use strict';
const fs = require('fs');
const path = require('path');
const WebSocket = require(path.join(__dirname, '..', 'tests', 'node_modules', 'ws'));
const { startHost, configWith, SRC } = require(path.join(__dirname, '..', 'tests', 'lib', 'harness'));
const { cpuTicks, rssAvg, sleep } = require(path.join(__dirname, '..', 'tests', 'lib', 'procstat'));

const DEADLINE_MS = 10 * 60 * 1000;
const ANSWER_MS = 20000;
const WALK = fs.readFileSync(path.join(SRC, 'conf/stories/lighthouse/WALKTHROUGH.txt'), 'utf8').split('\n').filter((l) => l.trim());

function parseArgs(argv) {
  const o = { players: 200, rounds: 2, json: null };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--players') o.players = Number(argv[++i]);
    else if (a === '--rounds') o.rounds = Number(argv[++i]);
    else if (a === '--json') o.json = argv[++i];
    else throw new Error(`unknown argument ${a}`);
  }
  if (!(o.players >= 1 && o.players <= 2000)) throw new Error('--players: 1 to 2000');
  if (!(o.rounds >= 1 && o.rounds <= 20)) throw new Error('--rounds: 1 to 20');
  return o;
}

// A player: counts frames, resolves `next` on the next text frame.
function player(port) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/tale/ws`, { origin: `http://127.0.0.1:${port}`, perMessageDeflate: { threshold: 0 } });
    const p = { ws, frames: 0, payload: 0, waiting: null, extensions: '', started: false };
    ws.on('upgrade', (res) => { p.extensions = res.headers['sec-websocket-extensions'] || ''; });
    ws.on('message', (data) => {
      p.frames++;
      p.payload += data.length;
      // a command's own answer echoes it (txt-userinput); what others do in the room does not
      const text = data.toString();
      if (p.waiting && /^\{"seq":\d+,"type":"text"/.test(text) && (p.started === false || text.includes('txt-userinput'))) {
        const w = p.waiting;
        p.waiting = null;
        w();
      }
    });
    p.command = (cmd) => new Promise((res, rej) => {
      p.started = true;
      const t = setTimeout(() => rej(new Error(`no answer to ${cmd} in ${ANSWER_MS} ms`)), ANSWER_MS);
      p.waiting = () => { clearTimeout(t); res(); };
      ws.send(JSON.stringify({ cmd }));
    });
    p.firstText = new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error(`no first text frame in ${ANSWER_MS} ms`)), ANSWER_MS);
      p.waiting = () => { clearTimeout(t); res(); };
    });
    ws.once('open', () => resolve(p));
    ws.once('error', reject);
  });
}

async function walkthrough(deflate, noContextTakeover = true) {
  const ws = { deflate, no_context_takeover: noContextTakeover };
  const host = await startHost({ config: configWith(['ws'], { pluginConfig: { ws } }) });
  try {
    const p = await player(host.port);
    await p.firstText;
    await sleep(200);
    for (const cmd of WALK) await p.command(cmd);
    await sleep(300);
    const r = { deflate, negotiated: p.extensions, frames: p.frames, payload_bytes: p.payload,
      wire_in_bytes: p.ws._socket.bytesRead, wire_out_bytes: p.ws._socket.bytesWritten };
    p.ws.close(1000);
    return r;
  } finally {
    await host.stop();
  }
}

async function crowd(deflate, n, rounds, noContextTakeover = true) {
  const config = configWith(['ws'], {
    mode: 'mud',
    pluginConfig: { ws: { deflate, no_context_takeover: noContextTakeover } },
    limits: { input_rate: 0, max_sessions: n + 10, max_connections: n + 10, max_sessions_per_address: 0,
      new_sessions_per_minute: 0, max_connections_per_address: 0, seat_idle: 0 },
  });
  const host = await startHost({ config });
  const pid = host.proc.pid;
  try {
    const warm = await player(host.port); // the first connection's one-time costs are not any player's
    await warm.firstText;
    await sleep(2500);
    const rss0 = await rssAvg(pid);
    const players = [];
    for (let i = 0; i < n; i += 50) {
      const batch = await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => player(host.port)));
      await Promise.all(batch.map((p) => p.firstText));
      players.push(...batch);
    }
    await sleep(3000); // idle: the ws plugin gives wslay contexts back after 2 s
    const rssIdle = await rssAvg(pid);
    const frames0 = players.reduce((s, p) => s + p.frames, 0);
    const cpu0 = cpuTicks(pid);
    const t0 = Date.now();
    await Promise.all(players.map(async (p) => {
      for (let r = 0; r < rounds; r++) for (const cmd of WALK) await p.command(cmd);
    }));
    const wall = Date.now() - t0;
    const cpu = cpuTicks(pid) - cpu0;
    const frames = players.reduce((s, p) => s + p.frames, 0) - frames0;
    const wireIn = players.reduce((s, p) => s + p.ws._socket.bytesRead, 0);
    await sleep(3000);
    const rssAfter = await rssAvg(pid);
    for (const p of players) p.ws.terminate();
    warm.ws.terminate();
    return { deflate, no_context_takeover: noContextTakeover, players: n, rounds, commands: n * rounds * WALK.length, frames, wall_ms: wall,
      cpu_ms: cpu * 10, cpu_us_per_frame: (cpu * 10000) / frames, wire_in_bytes: wireIn,
      rss_base_kib: Math.round(rss0), rss_per_idle_conn_kib: (rssIdle - rss0) / n, rss_per_conn_after_play_kib: (rssAfter - rss0) / n };
  } finally {
    await host.stop();
  }
}

async function main() {
  const o = parseArgs(process.argv);
  const deadline = setTimeout(() => { console.error('deflate.js: over the deadline'); process.exit(2); }, DEADLINE_MS);
  const started = new Date().toISOString();
  const walk = { off: await walkthrough(false), on: await walkthrough(true), takeover: await walkthrough(true, false) };
  if (walk.off.negotiated !== '' || !/^permessage-deflate/.test(walk.on.negotiated)) throw new Error('deflate was not negotiated as configured');
  // off, on, off, on: the two settings interleaved so a neighbour's load hits both alike
  const runs = [];
  for (const d of [false, true, false, true]) runs.push(await crowd(d, o.players, o.rounds));
  // and once with a zlib stream per connection, for its memory
  const takeover = await crowd(true, o.players, o.rounds, false);
  clearTimeout(deadline);
  const pick = (d, k) => runs.filter((r) => r.deflate === d).map((r) => r[k]);
  const mean = (a) => a.reduce((s, x) => s + x, 0) / a.length;
  const summary = {
    walkthrough_wire_ratio: walk.on.wire_in_bytes / walk.off.wire_in_bytes,
    walkthrough_upload_ratio: walk.on.wire_out_bytes / walk.off.wire_out_bytes,
    walkthrough_wire_ratio_takeover: walk.takeover.wire_in_bytes / walk.off.wire_in_bytes,
    cpu_us_per_frame_off: mean(pick(false, 'cpu_us_per_frame')),
    cpu_us_per_frame_on: mean(pick(true, 'cpu_us_per_frame')),
    rss_per_idle_conn_kib_off: mean(pick(false, 'rss_per_idle_conn_kib')),
    rss_per_idle_conn_kib_on: mean(pick(true, 'rss_per_idle_conn_kib')),
    rss_per_conn_after_play_kib_off: mean(pick(false, 'rss_per_conn_after_play_kib')),
    rss_per_conn_after_play_kib_on: mean(pick(true, 'rss_per_conn_after_play_kib')),
    crowd_wire_ratio: mean(pick(true, 'wire_in_bytes')) / mean(pick(false, 'wire_in_bytes')),
  };
  summary.rss_per_conn_after_play_kib_takeover = takeover.rss_per_conn_after_play_kib;
  summary.cpu_us_per_frame_takeover = takeover.cpu_us_per_frame;
  summary.cpu_ratio = summary.cpu_us_per_frame_on / summary.cpu_us_per_frame_off;
  const f = (x, d = 2) => x.toFixed(d);
  console.log(`walkthrough (1 IF player, ${WALK.length} commands): host -> client ${walk.off.wire_in_bytes} B off, ` +
    `${walk.on.wire_in_bytes} B on (ratio ${f(summary.walkthrough_wire_ratio)}); client -> host ${walk.off.wire_out_bytes} B off, ` +
    `${walk.on.wire_out_bytes} B on (ratio ${f(summary.walkthrough_upload_ratio)}); with no_context_takeover: false ` +
    `host -> client ${walk.takeover.wire_in_bytes} B (ratio ${f(summary.walkthrough_wire_ratio_takeover)})`);
  console.log('deflate  players  frames   cpu_ms  us/frame  wire_in_MB  rss/idle_conn_KiB  rss/conn_after_play_KiB');
  for (const r of [...runs, takeover]) {
    console.log(`${r.deflate ? (r.no_context_takeover ? 'on ' : 'on*') : 'off'}      ${String(r.players).padEnd(8)} ${String(r.frames).padEnd(8)} ${String(r.cpu_ms).padEnd(7)} ` +
      `${f(r.cpu_us_per_frame).padEnd(9)} ${f(r.wire_in_bytes / 1e6).padEnd(11)} ${f(r.rss_per_idle_conn_kib).padEnd(18)} ${f(r.rss_per_conn_after_play_kib)}`);
  }
  // under a few hundred frames /proc's 10 ms ticks can read 0: no ratio then
  const cpuRatio = Number.isFinite(summary.cpu_ratio) && summary.cpu_ratio > 0 ? `${f(summary.cpu_ratio)}x` : 'n/a (too few ticks)';
  console.log(`on/off: CPU per frame ${cpuRatio}, crowd bytes ${f(summary.crowd_wire_ratio)}x` +
    ' (on*: no_context_takeover: false, a zlib stream per connection)');
  if (o.json) fs.writeFileSync(o.json, JSON.stringify({ started, finished: new Date().toISOString(), walk, runs, takeover, summary }, null, 2));
}

main().catch((e) => {
  console.error(e.stack || e);
  process.exit(1);
});
