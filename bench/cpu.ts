/** CPU time of a process, from /proc/<pid>/stat (Linux): who is busy during a run. */
import { readFileSync } from "node:fs";

/** Clock ticks per second of utime/stime: USER_HZ, 100 on every Linux ABI Node runs on. */
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds used so far by every thread of `pid`. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Starts counting; `share()` is the CPU used since then, as a fraction of one core per elapsed second, `seconds()` in all. */
export function cpuMeter(pid: number): { share(): number; seconds(): number } {
  const cpu0 = cpuSeconds(pid), t0 = performance.now();
  return {
    share: () => (cpuSeconds(pid) - cpu0) / ((performance.now() - t0) / 1000),
    seconds: () => cpuSeconds(pid) - cpu0,
  };
}
