import * as fs from 'node:fs';

/**
 * How busy the machine's CPUs were over a stretch of time: the share of all cores' time, from
 * two reads of the kernel's counters (`/proc/stat`, summed over every process, containers
 * included), that was not idle. 1.0 means every core worked the whole time, so no scheduling
 * (batching, running in parallel) could have made that stretch shorter; only less work could.
 * Undefined where /proc/stat cannot be read (not Linux).
 */
export function startCpuBusyMeter(): () => number | undefined {
  const before = readCpuTimes();
  return () => {
    const after = readCpuTimes();
    if (!before || !after) return undefined;
    const total = after.total - before.total;
    return total > 0 ? 1 - (after.idle - before.idle) / total : undefined;
  };
}

function readCpuTimes(): { total: number; idle: number } | undefined {
  let line: string | undefined;
  try {
    line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  } catch {
    return undefined;
  }
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice: ticks since boot, all
  // cores together. guest time is counted in user already, so only the first eight are summed.
  const fields = line?.startsWith('cpu ') ? line.trim().split(/\s+/).slice(1, 9).map(Number) : [];
  if (fields.length < 5 || fields.some((n) => !Number.isFinite(n))) return undefined;
  const [, , , idle, iowait] = fields as [number, number, number, number, number];
  return { total: fields.reduce((sum, n) => sum + n, 0), idle: idle + iowait };
}
