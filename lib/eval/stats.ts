/**
 * Statistical tests with the defaults of scipy 1.10 (Debian 12's python3-scipy), so numbers
 * match what Python users compute:
 * - `wilcoxonSignedRank(x, y)` = scipy.stats.wilcoxon(x, y): zero_method "wilcox", no continuity
 *   correction, method "auto" (exact null distribution when n ≤ 50 and no zero differences — ties
 *   allowed, as scipy 1.10 does —, else the normal approximation with tie correction and the zero
 *   differences dropped). Note: docs/evaluation.md describes scipy's behaviour as exact only for
 *   n ≤ 25 without ties and with continuity correction; the issue asks for scipy 1.10's actual
 *   defaults, which are implemented, and `method` / `correction` options give the other reading.
 * - `mannWhitneyU(x, y)` = scipy.stats.mannwhitneyu(x, y): use_continuity true, method "auto"
 *   (exact when either sample has ≤ 8 values and there are no ties, else the normal approximation
 *   with tie correction); the statistic is U of x.
 * - `benjaminiHochberg(p)`: BH-adjusted p-values (step-up, monotone, capped at 1).
 * - `adjustedRandIndex(a, b)`: Hubert & Arabie's ARI (sklearn's adjusted_rand_score).
 *
 * Hand-written rather than taken from @stdlib: its tests lack scipy's exact null distributions
 * and tie handling, which are what make p-values comparable; the normal tail uses a
 * double-precision erfc (series + continued fraction) written here.
 */

export type Alternative = "two-sided" | "less" | "greater";

export interface TestResult {
  statistic: number;
  pValue: number;
  /** How the p-value was obtained, stated with every result. */
  method: string;
}

/** erfc(x) to about 1e-15 relative: Taylor series of erf for |x| < 2, Lentz continued fraction beyond. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < 2) {
    // erf(x) = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1))
    let sum = x, term = x;
    for (let n = 1; n < 200; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(−x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …)))) (Lentz's method)
  const tiny = 1e-300;
  let f = x, C = x, D = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    D = x + a * D;
    D = D === 0 ? tiny : 1 / D;
    C = x + a / C;
    if (C === 0) C = tiny;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** Standard normal survival function P(Z > z). */
export const normalSf = (z: number): number => 0.5 * erfc(z / Math.SQRT2);

/** Average ranks (1-based) and the sizes of tie groups. */
export function rankData(v: ArrayLike<number>): { ranks: Float64Array; ties: number[] } {
  const idx = Array.from({ length: v.length }, (_, i) => i).sort((a, b) => v[a] - v[b]);
  const ranks = new Float64Array(v.length);
  const ties: number[] = [];
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && v[idx[j + 1]] === v[idx[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[idx[k]] = r;
    if (j > i) ties.push(j - i + 1);
    i = j + 1;
  }
  return { ranks, ties };
}

/** Null distribution of the Wilcoxon signed-rank sum R+ for n pairs: P(R+ = k), k = 0..n(n+1)/2. */
function wilcoxonPmf(n: number): Float64Array {
  const max = (n * (n + 1)) / 2;
  let c = new Float64Array(max + 1);
  c[0] = 1;
  for (let i = 1; i <= n; i++) {
    const next = c.slice();
    for (let k = i; k <= max; k++) next[k] += c[k - i];
    c = next;
  }
  const total = 2 ** n;
  return c.map((v) => v / total);
}

export interface WilcoxonOptions {
  alternative?: Alternative;
  method?: "auto" | "exact" | "approx";
  correction?: boolean;
}

/** Paired Wilcoxon signed-rank test of x − y (see the module comment for the scipy 1.10 rules). */
export function wilcoxonSignedRank(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  o: WilcoxonOptions = {},
): TestResult {
  if (x.length !== y.length) {
    throw new RangeError(`wilcoxon: samples have ${x.length} and ${y.length} values`);
  }
  const alternative = o.alternative ?? "two-sided";
  let d = Array.from(x, (v, i) => v - y[i]);
  let mode = o.method ?? "auto";
  if (mode === "auto") mode = d.length <= 50 ? "exact" : "approx";
  const nZero = d.filter((v) => v === 0).length;
  if (nZero > 0 && mode === "exact") mode = "approx";
  if (mode === "approx") {
    if (nZero === d.length) throw new RangeError("wilcoxon: all differences are zero");
    d = d.filter((v) => v !== 0);
  }
  const n = d.length;
  const { ranks, ties } = rankData(d.map(Math.abs));
  let rPlus = 0, rMinus = 0;
  d.forEach((v, i) => (v > 0 ? (rPlus += ranks[i]) : v < 0 ? (rMinus += ranks[i]) : 0));
  const T = alternative === "two-sided" ? Math.min(rPlus, rMinus) : rPlus;
  let p: number;
  let method: string;
  if (mode === "approx") {
    const mn = (n * (n + 1)) / 4;
    let se = n * (n + 1) * (2 * n + 1);
    for (const t of ties) se -= 0.5 * t * (t * t - 1);
    se = Math.sqrt(se / 24);
    const cc = !o.correction
      ? 0
      : alternative === "two-sided"
      ? 0.5 * Math.sign(T - mn)
      : alternative === "less"
      ? -0.5
      : 0.5;
    const z = (T - mn - cc) / se;
    p = alternative === "two-sided"
      ? 2 * normalSf(Math.abs(z))
      : alternative === "greater"
      ? normalSf(z)
      : 1 - normalSf(z);
    method =
      `normal approximation (n = ${n} non-zero differences, ${ties.length} tie groups corrected${
        o.correction ? ", continuity correction" : ""
      })`;
  } else {
    const pmf = wilcoxonPmf(n);
    const r = Math.floor(rPlus);
    const cdf = (k: number) => pmf.slice(0, k + 1).reduce((a, b) => a + b, 0);
    const sf = (k: number) => pmf.slice(k).reduce((a, b) => a + b, 0);
    if (alternative === "two-sided") {
      p = r === (pmf.length - 1) >> 1 ? 1 : 2 * Math.min(cdf(r), sf(r));
    } else p = alternative === "greater" ? sf(r) : cdf(r);
    method = `exact null distribution (n = ${n}${
      ties.length ? `, ${ties.length} tie groups: R+ floored as scipy` : ""
    })`;
  }
  return { statistic: T, pValue: Math.min(1, Math.max(0, p)), method };
}

/** Null distribution counts of the Mann–Whitney U for sample sizes m, n (P(U = k)). */
function mwuPmf(m: number, n: number): Float64Array {
  // f(m, n, k) = f(m − 1, n, k − n) + f(m, n − 1, k): number of arrangements with U = k.
  const memo = new Map<string, Float64Array>();
  const counts = (a: number, b: number): Float64Array => {
    const key = `${a},${b}`;
    const hit = memo.get(key);
    if (hit) return hit;
    let out: Float64Array;
    if (a === 0 || b === 0) {
      out = new Float64Array(1);
      out[0] = 1;
    } else {
      const left = counts(a - 1, b), right = counts(a, b - 1);
      out = new Float64Array(a * b + 1);
      left.forEach((v, k) => (out[k + b] += v));
      right.forEach((v, k) => (out[k] += v));
    }
    memo.set(key, out);
    return out;
  };
  const c = counts(m, n);
  const total = c.reduce((a, b) => a + b, 0);
  return c.map((v) => v / total);
}

export interface MannWhitneyOptions {
  alternative?: Alternative;
  useContinuity?: boolean;
  method?: "auto" | "exact" | "asymptotic";
}

/** Mann–Whitney U test (Wilcoxon rank-sum) of x against y; statistic = U of x. */
export function mannWhitneyU(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  o: MannWhitneyOptions = {},
): TestResult {
  const n1 = x.length, n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError("mannWhitneyU: both samples need values");
  const alternative = o.alternative ?? "two-sided";
  const all = [...Array.from(x), ...Array.from(y)];
  const { ranks, ties } = rankData(all);
  let R1 = 0;
  for (let i = 0; i < n1; i++) R1 += ranks[i];
  const U1 = R1 - (n1 * (n1 + 1)) / 2, U2 = n1 * n2 - U1;
  const [U, f] = alternative === "greater"
    ? [U1, 1]
    : alternative === "less"
    ? [U2, 1]
    : [Math.max(U1, U2), 2];
  let method = o.method ?? "auto";
  if (method === "auto") {
    method = n1 > 8 && n2 > 8 ? "asymptotic" : ties.length ? "asymptotic" : "exact";
  }
  let p: number;
  let how: string;
  if (method === "exact") {
    const pmf = mwuPmf(n1, n2);
    const k = Math.floor(U);
    p = pmf.slice(k).reduce((a, b) => a + b, 0);
    how = `exact null distribution (n1 = ${n1}, n2 = ${n2})`;
  } else {
    const n = n1 + n2;
    const tieTerm = ties.reduce((a, t) => a + t ** 3 - t, 0);
    const s = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
    const z = (U - (n1 * n2) / 2 - ((o.useContinuity ?? true) ? 0.5 : 0)) / s;
    p = normalSf(z);
    how = `normal approximation (n1 = ${n1}, n2 = ${n2}, ${ties.length} tie groups corrected${
      (o.useContinuity ?? true) ? ", continuity correction" : ""
    })`;
  }
  return { statistic: U1, pValue: Math.min(1, Math.max(0, f * p)), method: how };
}

/** Benjamini–Hochberg adjusted p-values, in the input order (NaN stays NaN and is not counted). */
export function benjaminiHochberg(p: ArrayLike<number>): number[] {
  const idx = Array.from({ length: p.length }, (_, i) => i).filter((i) => !Number.isNaN(p[i])).sort(
    (a, b) => p[a] - p[b],
  );
  const m = idx.length;
  const q = Array.from(p, () => NaN);
  let min = 1;
  for (let r = m - 1; r >= 0; r--) {
    min = Math.min(min, (p[idx[r]] * m) / (r + 1));
    q[idx[r]] = min;
  }
  return q;
}

/** Adjusted Rand index of two labelings of the same items. */
export function adjustedRandIndex(
  a: ArrayLike<string | number>,
  b: ArrayLike<string | number>,
): number {
  if (a.length !== b.length) {
    throw new RangeError(`ARI: labelings of ${a.length} and ${b.length} items`);
  }
  const n = a.length;
  const table = new Map<string, number>(),
    rows = new Map<string, number>(),
    cols = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const ka = String(a[i]), kb = String(b[i]);
    table.set(`${ka}\u0000${kb}`, (table.get(`${ka}\u0000${kb}`) ?? 0) + 1);
    rows.set(ka, (rows.get(ka) ?? 0) + 1);
    cols.set(kb, (cols.get(kb) ?? 0) + 1);
  }
  const c2 = (x: number) => (x * (x - 1)) / 2;
  const sumTable = [...table.values()].reduce((s, v) => s + c2(v), 0);
  const sumRows = [...rows.values()].reduce((s, v) => s + c2(v), 0);
  const sumCols = [...cols.values()].reduce((s, v) => s + c2(v), 0);
  const expected = (sumRows * sumCols) / c2(n);
  const max = (sumRows + sumCols) / 2;
  // Identical trivial partitions (all one cluster, or all singletons) agree perfectly.
  if (max === expected) return 1;
  return (sumTable - expected) / (max - expected);
}
