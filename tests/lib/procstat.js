// procstat.js - a process's memory and CPU from /proc, for the measuring
// tools (tests/ws/idle_rss.js, bench/deflate.js).
'use strict';
const fs = require('fs');

// A size field of /proc/PID/status (VmRSS, RssAnon, ...) in KiB.
function rssKiB(pid, field = 'VmRSS') {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}

// utime + stime in clock ticks (100 a second)
function cpuTicks(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
}

function fdCount(pid) {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// VmRSS averaged over a second (5 samples), so one transient burst does not decide.
async function rssAvg(pid) {
  let sum = 0;
  for (let i = 0; i < 5; i++) {
    sum += rssKiB(pid);
    await sleep(200);
  }
  return sum / 5;
}

module.exports = { rssKiB, cpuTicks, fdCount, rssAvg, sleep };
