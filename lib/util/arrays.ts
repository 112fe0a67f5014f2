/** Row-major matrix helpers shared by the methods: stacking rows and per-column standardisation. */

/** The rows of several row-major matrices (same width) stacked into one. */
export function concatRows(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export interface ColumnStats {
  mu: Float64Array;
  /** Sample SD; 1 where a column is constant. */
  sd: Float64Array;
}

/** Per-column mean and sample SD over the rows of several row-major matrices. */
export function columnStats(mats: Float32Array[], cols: number): ColumnStats {
  const mu = new Float64Array(cols), sd = new Float64Array(cols);
  let n = 0;
  for (const m of mats) {
    n += m.length / cols;
    for (let k = 0; k < m.length; k++) mu[k % cols] += m[k];
  }
  for (let j = 0; j < cols; j++) mu[j] /= n;
  for (const m of mats) {
    for (let k = 0; k < m.length; k++) sd[k % cols] += (m[k] - mu[k % cols]) ** 2;
  }
  for (let j = 0; j < cols; j++) sd[j] = Math.sqrt(sd[j] / Math.max(1, n - 1)) || 1;
  return { mu, sd };
}

/** (x − μ) / σ per column. */
export const standardiseColumns = (m: Float32Array, s: ColumnStats, cols: number) =>
  Float32Array.from(m, (v, k) => (v - s.mu[k % cols]) / s.sd[k % cols]);

/** x · σ + μ per column (the inverse of `standardiseColumns`). */
export const unstandardiseColumns = (m: ArrayLike<number>, s: ColumnStats, cols: number) =>
  Float32Array.from(m, (v, k) => v * s.sd[k % cols] + s.mu[k % cols]);
