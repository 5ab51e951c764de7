/**
 * The machine, the versions, and how busy the machine was with other work during the run.
 *
 * Other work is measured, not guessed from the load average (which this run's own proofs raise): on Linux, the CPU
 * time the whole machine spent busy (/proc/stat) minus the CPU time of this process and the children it waited for
 * (/proc/self/stat utime + stime + cutime + cstime), as a share of cores x wall time.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageVersion } from './common.ts';
import { UNDER_LOAD_SHARE, type LoadReport, type MachineInfo } from './results.ts';

const REPO_DIR = dirname(dirname(fileURLToPath(import.meta.url)));

export function machineInfo(): MachineInfo {
  return {
    cores: os.cpus().length,
    availableParallelism: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryBytes: os.totalmem(),
    platform: os.platform(),
    release: os.release(),
    arch: os.arch(),
    node: process.version,
  };
}

export function versions(): Record<string, string> {
  const out: Record<string, string> = {
    node: process.version,
    zkai: (JSON.parse(readFileSync(join(REPO_DIR, 'package.json'), 'utf8')) as { version: string }).version,
  };
  for (const name of [
    'snarkjs',
    'ffjavascript',
    'circom2',
    'circomlib',
    'piscina',
    'ethers',
    'solc',
    '@foundry-rs/anvil',
    'onnxruntime-node',
    'tsx',
    'vega',
    'vega-lite',
    'fastify',
    'autocannon',
  ]) {
    try {
      out[name] = packageVersion(name);
    } catch {
      // not installed (or not resolvable from here): left out
    }
  }
  return out;
}

interface CpuSnapshot {
  at: number;
  /** Busy CPU seconds of the whole machine. */
  machineBusy: number;
  /** CPU seconds of this process and its waited-for children. */
  ours: number;
}

function snapshot(): CpuSnapshot | null {
  try {
    const hz = 100; // USER_HZ: 100 on every Linux this runs on
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    // user nice system idle iowait irq softirq steal ...
    const busy = (cpu[0] ?? 0) + (cpu[1] ?? 0) + (cpu[2] ?? 0) + (cpu[5] ?? 0) + (cpu[6] ?? 0) + (cpu[7] ?? 0);
    const self = readFileSync('/proc/self/stat', 'utf8');
    const fields = self.slice(self.lastIndexOf(')') + 2).split(' ');
    // fields[0] is state (field 3); utime is field 14 -> index 11
    const ours = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    if (!Number.isFinite(busy) || !Number.isFinite(ours)) return null;
    return { at: Date.now(), machineBusy: busy / hz, ours: ours / hz };
  } catch {
    return null;
  }
}

/** Start watching the machine's load; `finish()` gives the report. */
export function watchLoad(): { finish(): LoadReport } {
  const loadAverageAtStart = os.loadavg();
  const start = snapshot();
  const cores = os.cpus().length;
  return {
    finish() {
      const end = snapshot();
      const loadAverageAtEnd = os.loadavg();
      let otherCpuShare: number | null = null;
      if (start && end && end.at > start.at) {
        const wall = (end.at - start.at) / 1000;
        const other = end.machineBusy - start.machineBusy - (end.ours - start.ours);
        otherCpuShare = Math.max(0, Math.min(1, other / (wall * cores)));
      }
      const busyAtStart = (loadAverageAtStart[0] ?? 0) > cores * 0.5;
      const underLoad =
        (otherCpuShare !== null && otherCpuShare > UNDER_LOAD_SHARE) || (otherCpuShare === null && busyAtStart);
      const note =
        otherCpuShare === null
          ? `other work not measurable here (no /proc); load average at start ${loadAverageAtStart[0]?.toFixed(2)}`
          : `other processes used ${(otherCpuShare * 100).toFixed(0)}% of the machine's CPU during the run; load average at start ${loadAverageAtStart[0]?.toFixed(2)}`;
      return { loadAverageAtStart, loadAverageAtEnd, otherCpuShare, underLoad, note };
    },
  };
}
