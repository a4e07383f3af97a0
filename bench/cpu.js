// CPU time per process group over a benchmark scenario, read from /proc (Linux; elsewhere the
// figures are simply left out). Throughput on this shared 2-core VM moves by 10–20 % between runs;
// CPU time per record moves far less, and it carries over to other machines
// (../shared/research/perf-baselines.md makes the same point), so the benches print both.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux this runs on

function ticksOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime
  } catch {
    return 0; // gone
  }
}

function postgresPids() {
  const pids = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/comm`, 'utf8').trim() === 'postgres') pids.push(name);
    } catch {
      // raced with its exit
    }
  }
  return pids;
}

function machineTicks() {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = cpu[3] + (cpu[4] ?? 0);
  return { busy: cpu.reduce((a, b) => a + b, 0) - idle, all: cpu.reduce((a, b) => a + b, 0) };
}

/**
 * Takes a snapshot; call the returned function after the scenario to get CPU seconds used since:
 * `groups` maps a label to pids (numbers, or 'postgres' for every postgres process); `self` is
 * this process (the load generator).
 */
export function cpuWindow(groups) {
  if (process.platform !== 'linux') return () => undefined;
  const resolve = (pids) => (pids === 'postgres' ? postgresPids() : pids);
  const start = new Map();
  for (const pids of Object.values(groups)) for (const pid of resolve(pids)) start.set(String(pid), ticksOf(pid));
  const selfStart = process.cpuUsage();
  const machineStart = machineTicks();
  return () => {
    const out = {};
    for (const [label, pids] of Object.entries(groups)) {
      let ticks = 0;
      // A process that started during the window (a new postgres backend) counts from zero.
      for (const pid of resolve(pids)) ticks += ticksOf(pid) - (start.get(String(pid)) ?? 0);
      out[label] = ticks / TICKS_PER_SECOND;
    }
    const self = process.cpuUsage(selfStart);
    out['load generator'] = (self.user + self.system) / 1e6;
    const m = machineTicks();
    out.machineBusy = (m.busy - machineStart.busy) / Math.max(1, m.all - machineStart.all);
    return out;
  };
}

/** "gateway 61 µs, postgres 48 µs, load generator 9 µs per record; machine 74 % busy" */
export function perRecord(cpu, records) {
  if (cpu === undefined || records === 0) return '';
  const parts = Object.entries(cpu).filter(([k]) => k !== 'machineBusy').map(([k, s]) => `${k} ${Math.round((s * 1e6) / records)} µs`);
  return `CPU per record: ${parts.join(', ')}; machine ${Math.round(cpu.machineBusy * 100)} % busy`;
}
