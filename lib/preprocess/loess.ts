/**
 * One-dimensional LOESS (Cleveland 1979; Cleveland & Devlin 1988): at every x_i, a weighted
 * least-squares polynomial of degree 1 or 2 over the q = ⌊span·n⌋ nearest points, tricube
 * weights w = (1 − (d/d_q)³)³ with d_q the distance to the q-th nearest point; the fitted value
 * is that polynomial at x_i. Gaussian family, no robustness iterations — what scanpy's
 * `seurat_v3` flavour asks of skmisc's `loess(x, y, span=0.3, degree=2)`.
 *
 * Hand-written: no maintained npm package offers degree-2 LOESS (the `loess` package is
 * unmaintained and not typed). This computes the fit exactly at every point ("direct" surface);
 * skmisc's default "interpolate" surface approximates the same fit with a k-d tree and cubic
 * blending, so values agree closely but not bit-for-bit.
 *
 * In 1-D the q nearest neighbours of a point in sorted order are a contiguous window, found with
 * a sliding window in O(n) overall; each local fit is O(q), so the whole fit is O(n·q).
 */
export function loessFit(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  span = 0.3,
  degree: 1 | 2 = 2,
): Float64Array {
  const n = x.length;
  if (n !== y.length) throw new RangeError(`loess: x has ${n} values, y ${y.length}`);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  const xs = Float64Array.from(order, (i) => x[i]);
  const ys = Float64Array.from(order, (i) => y[i]);
  const q = Math.max(degree + 1, Math.min(n, Math.floor(span * n)));
  const fitted = new Float64Array(n);
  let lo = 0; // window [lo, lo + q)
  for (let i = 0; i < n; i++) {
    const x0 = xs[i];
    // Slide right while the point leaving on the left is farther than the one entering on the right.
    while (lo + q < n && x0 - xs[lo] > xs[lo + q] - x0) lo++;
    const dq = Math.max(x0 - xs[lo], xs[lo + q - 1] - x0);
    // Weighted moments of (x - x0) up to degree 4, and of y·(x - x0)^k up to `degree`.
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, t0 = 0, t1 = 0, t2 = 0;
    for (let j = lo; j < lo + q; j++) {
      const d = xs[j] - x0;
      const r = dq > 0 ? Math.abs(d) / dq : 0;
      if (r >= 1) continue;
      const w = (1 - r * r * r) ** 3;
      const wd = w * d, wd2 = wd * d;
      s0 += w;
      s1 += wd;
      s2 += wd2;
      s3 += wd2 * d;
      s4 += wd2 * d * d;
      t0 += w * ys[j];
      t1 += wd * ys[j];
      t2 += wd2 * ys[j];
    }
    let value: number;
    if (degree === 1) {
      const det = s0 * s2 - s1 * s1;
      value = Math.abs(det) > 1e-300 ? (t0 * s2 - t1 * s1) / det : t0 / s0;
    } else {
      // Solve the 3×3 normal equations [s0 s1 s2; s1 s2 s3; s2 s3 s4] β = [t0 t1 t2] for β0 (Cramer).
      const det = s0 * (s2 * s4 - s3 * s3) - s1 * (s1 * s4 - s3 * s2) + s2 * (s1 * s3 - s2 * s2);
      if (Math.abs(det) > 1e-300 * Math.max(1, s4 * s4)) {
        value = (t0 * (s2 * s4 - s3 * s3) - s1 * (t1 * s4 - s3 * t2) + s2 * (t1 * s3 - s2 * t2)) /
          det;
      } else {
        const d1 = s0 * s2 - s1 * s1;
        value = Math.abs(d1) > 1e-300 ? (t0 * s2 - t1 * s1) / d1 : t0 / s0;
      }
    }
    fitted[order[i]] = value;
  }
  return fitted;
}
