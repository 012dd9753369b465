#!/usr/bin/env node
// idle_rss.js - what an idle MUD player costs in host RSS, and whether the
// memory comes back once a crowd has left.  A measuring tool, not a test
// (ctest runs *.test.js only); bounded in players and in time.
//
//   node tests/ws/idle_rss.js [--transport ws|sse] [--steps 500,2000] [--batch 100] [--leave [--rounds K]] [--hold S]
//
// Starts tale-host (build/tale-host, or $TALE_HOST) in MUD mode with the
// per-address limits off and room for the crowd, then opens the players in
// batches, each one waiting for its first frames.  At every step it prints
// the host's VmRSS (averaged over a second) and (RSS(N) - RSS(0)) / N; the
// slope between steps separates a connection's fixed cost from what grows
// with the room.  --leave closes everyone at the end and waits for the
// sessions to be reaped (session_idle: 1s), then prints RSS against the start;
// --rounds repeats join-and-leave, which tells a leak (grows every round)
// from one-time warm-up (code pages, h2o's recycled buffers, table sizes).
'use strict';
const http = require('http');
const WebSocket = require('ws');
const { startHost, configWith } = require('../lib/harness');
const { rssKiB, cpuTicks, fdCount, rssAvg, sleep } = require('../lib/procstat');

const DEADLINE_MS = 15 * 60 * 1000; // the whole run, whatever the counts
const FIRST_FRAME_MS = 30000;       // one batch's players must each get a frame within this

function parseArgs(argv) {
  const o = { transport: 'ws', steps: [500, 2000], batch: 100, leave: false, hold: 0, rounds: 1 };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--transport') o.transport = argv[++i];
    else if (a === '--steps') o.steps = argv[++i].split(',').map(Number);
    else if (a === '--batch') o.batch = Number(argv[++i]);
    else if (a === '--leave') o.leave = true;
    else if (a === '--rounds') o.rounds = Math.min(Number(argv[++i]), 10); // with --leave: join and leave this many times
    else if (a === '--hold') o.hold = Math.min(Number(argv[++i]), 600); // seconds to keep the host up at the end (to attach a debugger)
    else throw new Error(`unknown argument ${a}`);
  }
  if (!['ws', 'sse'].includes(o.transport)) throw new Error('--transport is ws or sse');
  if (o.steps.some((n) => !(n > 0 && n <= 10000))) throw new Error('--steps: counts between 1 and 10000');
  return o;
}

function mudConfig(max) {
  return configWith(['ws', 'sse'], {
    mode: 'mud',
    limits: {
      input_rate: 0,
      max_sessions: max,
      max_connections: max,
      max_sessions_per_address: 0,
      new_sessions_per_minute: 0,
      max_connections_per_address: 0,
      session_idle: '1s',
    },
  });
}

// One idle player: resolves once its first frame has arrived; close() ends it.
function openWs(host) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/tale/ws`, { origin: host.url });
    const t = setTimeout(() => reject(new Error('no frame in time')), FIRST_FRAME_MS);
    let frames = 0;
    ws.on('message', () => {
      if (++frames === 2) { // "connected", then the host's first frame
        clearTimeout(t);
        resolve({ close: () => ws.terminate(), closed: new Promise((r) => ws.once('close', r)) });
      }
    });
    ws.once('error', (e) => { clearTimeout(t); reject(e); });
  });
}

function openSse(host) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no frame in time')), FIRST_FRAME_MS);
    const req = http.get(`${host.url}/tale/eventsource`, { agent: false, headers: { origin: host.url } }, (res) => {
      if (res.statusCode !== 200) {
        clearTimeout(t);
        reject(new Error(`eventsource answered ${res.statusCode}`));
        return;
      }
      let seen = '';
      res.on('data', (d) => {
        if (seen === null) return;
        seen += d;
        if (/\nid: /.test(seen)) { // a frame, not only the opening comment
          seen = null;
          clearTimeout(t);
          resolve({ close: () => req.destroy(), closed: new Promise((r) => res.socket.once('close', r)) });
        }
      });
    });
    req.once('error', (e) => { clearTimeout(t); reject(e); });
  });
}

async function main() {
  const o = parseArgs(process.argv);
  const max = Math.max(...o.steps) + 100;
  const t0 = Date.now();
  const host = await startHost({ config: mudConfig(max) });
  const pid = host.proc.pid;
  const open = o.transport === 'ws' ? openWs : openSse;
  const players = [];
  const fill = async (target) => {
    while (players.length < target) {
      if (Date.now() - t0 > DEADLINE_MS) throw new Error('out of time');
      const k = Math.min(o.batch, target - players.length);
      players.push(...(await Promise.all(Array.from({ length: k }, () => open(host)))));
    }
  };
  let baseFds = 0;
  const leaveAll = async () => {
    const closed = players.map((p) => p.closed);
    for (const p of players) p.close();
    await Promise.all(closed);
    players.length = 0;
    // The host notices an SSE client gone only on a write (the keepalive,
    // every keepalive / 2): wait for its sockets to close, at most 30 s.
    for (let t = 0; fdCount(pid) > baseFds && t < 300; t++) await sleep(100);
    // Then session_idle (1 s) on a 1 s tick reaps the seats.  Each departure
    // is news to everyone left, so with thousands that keeps the host busy
    // for a while: wait until it is idle (under 5 % of a core over a second,
    // at most 120 s), then give the trim check (500 ms, at most one trim
    // per 2 s) time to run.
    await sleep(2500);
    for (let i = 0, t = cpuTicks(pid); i < 120; i++) {
      await sleep(1000);
      const now = cpuTicks(pid);
      if (now - t <= 5) break;
      t = now;
    }
    await sleep(2500);
  };
  const mib = (kib) => `${(kib / 1024).toFixed(1)} MiB`;
  try {
    await sleep(1000);
    baseFds = fdCount(pid);
    const base = await rssAvg(pid);
    const baseAnon = rssKiB(pid, 'RssAnon');
    console.log(`transport=${o.transport} start rss=${mib(base)} (anonymous ${mib(baseAnon)})`);
    for (let round = 1; round <= o.rounds; round++) {
      let prev = { n: 0, rss: base };
      for (const target of o.steps) {
        await fill(target);
        await sleep(3000); // the last arrivals' frames reach everyone, and the ws plugin releases idle contexts (2 s)
        const rss = await rssAvg(pid);
        console.log(`n=${target} rss=${mib(rss)} per-player=${((rss - base) / target).toFixed(1)} KiB ` +
          `slope-since-n=${prev.n}=${((rss - prev.rss) / (target - prev.n)).toFixed(1)} KiB  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
        prev = { n: target, rss };
      }
      if (!o.leave) break;
      await leaveAll();
      const rss = await rssAvg(pid);
      // Code pages first touched during the run stay (file-backed, shared):
      // the anonymous part is what the crowd's memory left behind.
      const anon = rssKiB(pid, 'RssAnon');
      console.log(`round ${round}, all left: rss=${mib(rss)} (${(((rss - base) / base) * 100).toFixed(1)} % over the start), ` +
        `anonymous ${mib(anon)} (${(((anon - baseAnon) / baseAnon) * 100).toFixed(1)} %)`);
    }
    if (o.hold > 0) {
      console.log(`holding pid ${pid} for ${o.hold} s`);
      await sleep(o.hold * 1000);
    }
  } finally {
    for (const p of players) p.close();
    await host.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
