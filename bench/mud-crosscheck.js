#!/usr/bin/env node
// mud-crosscheck.js - mud-join and mud-yell measured by a client that is not
// ours (npm `ws`, from tests/node_modules), to check tale-bench's figures.
//
//   node bench/mud-crosscheck.js --port PORT --players N [--wave 100] [--json FILE]
//
// N new seats over WebSocket (all WebSocket: this checks the C client's
// figures, not the SSE path), joining in waves like tale-bench: a wave starts
// when the last one has joined or timed out (10 s); joining stops when most of
// a wave failed or after 120 s.  Join time: from the socket's creation to its
// first text frame.  Then one player yells a fresh word and we time until the
// last player has it (at most 30 s).  Every wait is bounded; the process ends
// by itself.
"use strict";
const path = require("path");
const fs = require("fs");
const crypto = require("crypto");
const WebSocket = require(path.join(__dirname, "..", "tests", "node_modules", "ws"));

const opt = { port: 0, players: 0, wave: 100, json: null };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, ""),
    v = process.argv[i + 1];
  if (!(k in opt) || v === undefined) {
    console.error("usage: mud-crosscheck.js --port PORT --players N [--wave 100] [--json FILE]");
    process.exit(2);
  }
  opt[k] = k === "json" ? v : Number(v);
}
if (!(opt.port > 0) || !(opt.players > 0) || !(opt.wave > 0)) {
  console.error("usage: mud-crosscheck.js --port PORT --players N [--wave 100] [--json FILE]");
  process.exit(2);
}

const JOIN_WAIT = 10000,
  JOIN_CAP = 120000,
  YELL_WAIT = 30000;
const now = () => Number(process.hrtime.bigint()) / 1e6; // ms
const players = [];
let firstError = null;
let marker = null;

function open(i) {
  const p = { i, t0: now(), joined: 0, mark: 0, failed: false };
  const ws = new WebSocket(`ws://127.0.0.1:${opt.port}/tale/ws`, { origin: `http://127.0.0.1:${opt.port}`, perMessageDeflate: false });
  p.ws = ws;
  ws.on("message", (data, isBinary) => {
    if (isBinary || data.indexOf('"type":"text"') < 0) return;
    const t = now();
    if (!p.joined) p.joined = t;
    if (marker && !p.mark && data.indexOf(marker) >= 0) p.mark = t;
  });
  const fail = (why) => {
    if (p.failed) return;
    p.failed = true;
    if (!firstError) firstError = `player ${i + 1}: ${why}`;
  };
  ws.on("error", (e) => fail(e.message));
  ws.on("unexpected-response", (req, res) => fail(`upgrade refused: ${res.statusCode}`));
  ws.on("close", () => {
    if (!p.leaving) fail("closed by the host");
  });
  players.push(p);
  return p;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const live = () => players.filter((p) => p.joined && !p.failed);

function pct(sorted, q) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length))) - 1];
}

async function join() {
  const start = now();
  let stop = null;
  while (players.length < opt.players && !stop) {
    if (now() - start > JOIN_CAP) {
      stop = "the join time cap";
      break;
    }
    const wave = [];
    for (let k = 0; k < opt.wave && players.length < opt.players; k++) wave.push(open(players.length));
    const end = now() + JOIN_WAIT;
    while (wave.some((p) => !p.joined && !p.failed) && now() < end) await sleep(2);
    for (const p of wave)
      if (!p.joined && !p.failed) {
        p.failed = true;
        p.ws.terminate();
        if (!firstError) firstError = `player ${p.i + 1}: no welcome text within 10 s`;
      }
    if (wave.filter((p) => p.failed).length * 2 > wave.length) stop = "most of a wave failed";
  }
  const ok = players.filter((p) => p.joined);
  const last = Math.max(start, ...ok.map((p) => p.joined));
  const block = Math.max(1, Math.min(1000, Math.floor(opt.players / 10)));
  const times = ok.map((p) => p.joined - p.t0).sort((a, b) => a - b);
  let first = null,
    lastb = null;
  if (ok.length >= block) {
    first = block / ((ok[block - 1].joined - ok[0].t0) / 1000);
    lastb = block / ((ok[ok.length - 1].joined - ok[ok.length - block].t0) / 1000);
  }
  const r = {
    asked: opt.players,
    joined: ok.length,
    elapsed_s: (last - start) / 1000,
    seats_per_s: ok.length / ((last - start) / 1000),
    block,
    first_block_seats_per_s: first,
    last_block_seats_per_s: lastb,
    last_over_first_cost: first && lastb ? first / lastb : null,
    join: { median_ms: pct(times, 0.5), p99_ms: pct(times, 0.99), max_ms: times[times.length - 1] || null },
  };
  if (stop) r.stopped_by = stop;
  return r;
}

async function settle() {
  // Wait until no player has had a frame for 1 s (the join broadcasts are in), at most 30 s.
  let seen = 0;
  const end = now() + 30000;
  const count = () => {
    seen++;
  };
  for (const p of players) p.ws.on("message", count);
  let last = -1;
  while (now() < end) {
    await sleep(1000);
    if (seen === last) break;
    last = seen;
  }
  for (const p of players) p.ws.off("message", count);
}

async function yell() {
  const crowd = live();
  if (!crowd.length) return { reached: 0, players: 0, last_ms: null };
  marker = "nodeyell" + crypto.randomBytes(4).toString("hex");
  const t0 = now();
  crowd[0].ws.send(JSON.stringify({ cmd: `yell ${marker}` }));
  while (crowd.some((p) => !p.mark && !p.failed) && now() - t0 < YELL_WAIT) await sleep(1);
  const got = crowd.filter((p) => p.mark).map((p) => p.mark - t0).sort((a, b) => a - b);
  return {
    players: crowd.length,
    reached: got.length,
    last_ms: got.length === crowd.length ? got[got.length - 1] : null,
    median_ms: pct(got, 0.5),
  };
}

(async () => {
  const j = await join();
  console.log(
    `node ws mud-join   ${j.joined} of ${j.asked} seats in ${j.elapsed_s.toFixed(1)} s: ${j.seats_per_s.toFixed(0)} seats/s; ` +
      `first ${j.block} ${(j.first_block_seats_per_s || 0).toFixed(0)}/s, last ${j.block} ${(j.last_block_seats_per_s || 0).toFixed(0)}/s; ` +
      `join median ${(j.join.median_ms || 0).toFixed(1)} ms, p99 ${(j.join.p99_ms || 0).toFixed(1)} ms${j.stopped_by ? "; stopped by " + j.stopped_by : ""}`,
  );
  await settle();
  const y = await yell();
  console.log(
    `node ws mud-yell   ${y.reached} of ${y.players} players had the yell; ` +
      (y.last_ms !== null ? `the last after ${y.last_ms.toFixed(1)} ms` : "the rest not within 30 s") +
      (y.median_ms !== null && y.median_ms !== undefined ? ` (median ${y.median_ms.toFixed(1)} ms)` : ""),
  );
  if (firstError) console.log(`first failure: ${firstError}`);
  for (const p of players) {
    p.leaving = true;
    p.ws.terminate();
  }
  const out = { tool: "mud-crosscheck.js (npm ws)", players: opt.players, "mud-join": j, "mud-yell": y, first_error: firstError };
  if (opt.json) fs.writeFileSync(opt.json, JSON.stringify(out, null, 2));
  process.exit(j.joined > 0 && y.reached > 0 ? 0 : 1);
})();
