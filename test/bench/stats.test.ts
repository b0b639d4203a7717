import { kolmogorovQ, ksTwoSample } from "../../bench/stats";

describe("the two-sample Kolmogorov–Smirnov test", () => {
  it("finds no distance between identical samples", () => {
    const sample = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];
    expect(ksTwoSample(sample, [...sample].reverse())).toEqual({ d: 0, p: 1 });
  });

  it("finds the whole distance between disjoint samples", () => {
    const low = Array.from({ length: 50 }, (_, i) => i);
    const high = Array.from({ length: 50 }, (_, i) => 100 + i);
    const { d, p } = ksTwoSample(low, high);
    expect(d).toBe(1);
    expect(p).toBeLessThan(1e-10);
  });

  it("counts tied values together", () => {
    // The steps at 3 and 4 are taken by both samples at once: D = 1/2 (scipy's ks_2samp agrees).
    expect(ksTwoSample([1, 2, 3, 4], [3, 4, 5, 6]).d).toBe(0.5);
  });

  it("gives the p-value of the Kolmogorov distribution, with Stephens' correction", () => {
    // n = m = 50, D = 0.3: n_e = 25, λ = (5 + 0.12 + 0.11/5) · 0.3 = 1.5426,
    // and Q(1.5426) = 0.0171444 (scipy.special.kolmogorov).
    const a = Array.from({ length: 50 }, (_, i) => i);
    const b = Array.from({ length: 50 }, (_, i) => i + 15);
    const { d, p } = ksTwoSample(a, b);
    expect(d).toBeCloseTo(0.3, 12);
    expect(p).toBeCloseTo(0.0171444, 6);
  });

  it("matches known values of Q on both sides of where its series switch", () => {
    // scipy.special.kolmogorov; 1.358 and 1.628 are the textbook critical values for α = 0.05 and 0.01.
    const known: [number, number][] = [
      [0.3, 0.9999906941986655], [0.8, 0.5441424115741981], [1.0, 0.26999967167735456],
      [1.18, 0.1234538094297657], [1.358, 0.05002679733444698], [1.628, 0.009975522431181053], [3.0, 3.045995948942526e-8],
    ];
    for (const [lambda, q] of known) expect(kolmogorovQ(lambda)).toBeCloseTo(q, 12);
    expect(kolmogorovQ(0)).toBe(1);
  });
});
