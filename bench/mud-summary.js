#!/usr/bin/env node
// mud-summary.js - the MUD-scale runs side by side: one row per figure, one
// column per player count, and how much each figure grew from the smallest
// run to the largest against how much the crowd that joined grew (a flat cost
// per player means per-player figures stay put and totals grow like the crowd).
//
//   node bench/mud-summary.js tale-bench-mud-1000.json tale-bench-mud-5000.json ...
//   node bench/mud-summary.js --check FILE...   (run.sh --smoke: every scenario reported figures)
"use strict";
const fs = require("fs");

const args = process.argv.slice(2);
const check = args[0] === "--check";
const files = check ? args.slice(1) : args;
if (files.length === 0) {
  console.error("usage: mud-summary.js [--check] tale-bench-mud-N.json...");
  process.exit(2);
}
const runs = files.map((f) => JSON.parse(fs.readFileSync(f, "utf8")));

// [label, pick(mud) -> number or null, unit, target at 10,000 (issue #13)]
const rows = [
  ["players joined", (m) => m["mud-join"].joined, "", ""],
  ["mud-join: seats/s", (m) => m["mud-join"].seats_per_s, "/s", ">= 2,000/s"],
  ["mud-join: cost last/first block", (m) => m["mud-join"].last_over_first_cost || null, "x", "<= 1.5 x"],
  ["mud-join: median join", (m) => m["mud-join"].join.median_ms, "ms", ""],
  ["mud-join: p99 join", (m) => m["mud-join"].join.p99_ms, "ms", ""],
  ["mud-rss: KiB per idle player", (m) => m["mud-rss"].kib_per_player, "KiB", "<= 16 KiB"],
  ["mud-rss: host RSS with the crowd", (m) => m["mud-rss"].rss_kib / 1024, "MiB", ""],
  ["mud-yell: until the last has it", (m) => (m["mud-yell"].last_ms >= 0 ? m["mud-yell"].last_ms : null), "ms", "<= 100 ms"],
  ["mud-yell: players reached", (m) => m["mud-yell"].reached, "", ""],
  ["mud-all: until the last answer", (m) => (m["mud-all"].last_ms >= 0 ? m["mud-all"].last_ms : null), "ms", "<= 1,500 ms"],
  ["mud-all: answered", (m) => m["mud-all"].answered, "", ""],
  ["mud-bystander: look median", (m) => (m["mud-bystander"].look ? m["mud-bystander"].look.median_ms : null), "ms", ""],
  ["mud-bystander: look p99", (m) => (m["mud-bystander"].look ? m["mud-bystander"].look.p99_ms : null), "ms", "<= 50 ms"],
  ["mud-bystander: looks unanswered", (m) => m["mud-bystander"].looks_timed_out, "", ""],
  ["mud-leave: RSS after reaping vs start", (m) => m["mud-leave"].rss_pct, "%", "within 10 %"],
  ["mud-leave: fds after reaping vs start", (m) => m["mud-leave"].fds_pct, "%", "within 10 %"],
];

function pick(fn, m) {
  try {
    const v = fn(m);
    return typeof v === "number" && Number.isFinite(v) ? v : null;
  } catch (e) {
    return null;
  }
}

if (check) {
  const bad = [];
  for (const [i, r] of runs.entries()) {
    const m = r.mud || {};
    for (const name of ["mud-join", "mud-rss", "mud-yell", "mud-all", "mud-bystander", "mud-leave"])
      if (!m[name] || m[name].ok !== true) bad.push(`${files[i]}: ${name}: ${(m[name] && m[name].error) || r.first_error || "no figures"}`);
    for (const [label, fn] of rows) if (pick(fn, m) === null) bad.push(`${files[i]}: ${label}: no figure`);
  }
  if (bad.length) {
    console.error("mud-summary: FAIL:\n  " + bad.join("\n  "));
    process.exit(1);
  }
  console.error("mud-summary: every MUD scenario reported figures");
  process.exit(0);
}

const fmt = (v, unit) => {
  if (v === null) return "-";
  const s = Math.abs(v) >= 100 || Number.isInteger(v) ? Math.round(v).toLocaleString("en-US") : v.toFixed(1);
  return unit === "" ? s : `${s} ${unit}`;
};
const first = runs[0],
  last = runs[runs.length - 1];
// The crowd that joined, not the one asked for: a host that stops taking
// seats leaves the larger runs with fewer players than their name says.
const joined = (r) => r.mud["mud-join"].joined || 1;
const crowd = joined(last) / joined(first);
console.log(
  `\n| figure | ${runs.map((r) => r.players.toLocaleString("en-US") + " asked").join(" | ")} | grew (crowd joined x${crowd.toFixed(2)}) | target at 10,000 |`,
);
console.log(`|---|${runs.map(() => "---").join("|")}|---|---|`);
for (const [label, fn, unit, target] of rows) {
  const vals = runs.map((r) => pick(fn, r.mud));
  const a = vals[0],
    b = vals[vals.length - 1];
  const grew = runs.length > 1 && a !== null && b !== null && a !== 0 && unit !== "%" ? `x${(b / a).toFixed(2)}` : "";
  console.log(`| ${label} | ${vals.map((v) => fmt(v, unit)).join(" | ")} | ${grew} | ${target} |`);
}
for (const r of runs) if (r.first_error) console.log(`\n${r.players} players: first failure: ${r.first_error}`);
