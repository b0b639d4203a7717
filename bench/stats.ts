export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function summary(samples: number[]): { median: number; p99: number; n: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: percentile(sorted, 50), p99: percentile(sorted, 99), n: sorted.length };
}

export type Stats = ReturnType<typeof summary>;

export const ms = (v: number): string => `${v.toFixed(2)} ms`;

/** Times `f` call by call with performance.now(), after `warmup` untimed calls. */
export function timeSync(warmup: number, n: number, f: () => unknown): Stats {
  const samples: number[] = [];
  let sink = 0;
  for (let i = 0; i < warmup + n; i++) {
    const t0 = performance.now();
    const result = f();
    const t1 = performance.now();
    if (result) sink++;
    if (i >= warmup) samples.push(t1 - t0);
  }
  if (sink < 0) throw new Error("unreachable");
  return summary(samples);
}

/** The same for an async `f`, awaited call by call. */
export async function timeAsync(warmup: number, n: number, f: () => Promise<unknown>): Promise<Stats> {
  const samples: number[] = [];
  for (let i = 0; i < warmup + n; i++) {
    const t0 = performance.now();
    await f();
    const t1 = performance.now();
    if (i >= warmup) samples.push(t1 - t0);
  }
  return summary(samples);
}
