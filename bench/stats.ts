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

/** The two-sample Kolmogorov–Smirnov test: D, the largest distance between
 *  the samples' empirical distribution functions (ties counted together), and
 *  the asymptotic p-value of a D that large if both come from one
 *  distribution, with Stephens' correction for finite samples (good from
 *  about 4 samples a side; Numerical Recipes §14.3). */
export function ksTwoSample(a: readonly number[], b: readonly number[]): { d: number; p: number } {
  if (!a.length || !b.length) throw new Error("the Kolmogorov–Smirnov test needs two non-empty samples");
  const x = [...a].sort((p, q) => p - q), y = [...b].sort((p, q) => p - q);
  let i = 0, j = 0, d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < x.length && x[i] === v) i++;
    while (j < y.length && y[j] === v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  const root = Math.sqrt((x.length * y.length) / (x.length + y.length));
  return { d, p: kolmogorovQ((root + 0.12 + 0.11 / root) * d) };
}

/** Q(λ) = P(K > λ) for the Kolmogorov distribution. Each of its two series
 *  converges in a few terms on its own side of λ ≈ 1.18. */
export function kolmogorovQ(lambda: number): number {
  if (lambda <= 0) return 1;
  let sum = 0;
  if (lambda < 1.18) {
    // 1 − √(2π)/λ · Σ e^(−(2j−1)²π²/(8λ²))
    for (let j = 1; j <= 8; j++) sum += Math.exp(-((2 * j - 1) ** 2) * Math.PI ** 2 / (8 * lambda * lambda));
    return 1 - (Math.sqrt(2 * Math.PI) / lambda) * sum;
  }
  // 2 Σ (−1)^(j−1) e^(−2j²λ²)
  for (let j = 1; j <= 8; j++) sum += (j % 2 ? 1 : -1) * Math.exp(-2 * j * j * lambda * lambda);
  return Math.min(1, 2 * sum);
}
