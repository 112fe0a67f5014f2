/**
 * Prediction metrics exactly as docs/evaluation.md defines them:
 * - per-gene Pearson r across a slice's spots; a gene constant in either vector has undefined r
 *   and is excluded from the slice's mean (and counted);
 * - slice PCC = mean of the defined per-gene r (per slice, never pooled across slices);
 * - RMSE = sqrt(mean over all spot × gene entries of the squared error), on the target's scale;
 * - top-k PCC = mean r of the k best-predicted genes.
 */
export interface SliceMetrics {
  pcc: number;
  rmse: number;
  /** Genes whose r is undefined (constant prediction or measurement). */
  genesExcluded: number;
  /** Per-gene r (NaN where undefined). */
  perGene: Float64Array;
  top50: number;
}

/** Pearson r of column `g` of two row-major n × G matrices; NaN if either column is constant. */
export function pearsonColumn(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  n: number,
  G: number,
  g: number,
): number {
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i * G + g];
    mb += b[i * G + g];
  }
  ma /= n;
  mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i * G + g] - ma, db = b[i * G + g] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  // Relative threshold: float32 predictions of a constant can carry rounding noise.
  if (saa <= 1e-12 * Math.max(1, ma * ma * n) || sbb <= 1e-12 * Math.max(1, mb * mb * n)) {
    return NaN;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Metrics of one slice: `pred` and `truth` are row-major n × G on the same scale. */
export function sliceMetrics(
  pred: ArrayLike<number>,
  truth: ArrayLike<number>,
  n: number,
  G: number,
): SliceMetrics {
  if (pred.length !== n * G || truth.length !== n * G) {
    throw new RangeError(`metrics: expected ${n}×${G} values`);
  }
  const perGene = new Float64Array(G);
  let sum = 0, defined = 0;
  for (let g = 0; g < G; g++) {
    const r = pearsonColumn(pred, truth, n, G, g);
    perGene[g] = r;
    if (!Number.isNaN(r)) {
      sum += r;
      defined++;
    }
  }
  let se = 0;
  for (let k = 0; k < n * G; k++) se += (pred[k] - truth[k]) ** 2;
  const sorted = Array.from(perGene).filter((r) => !Number.isNaN(r)).sort((a, b) => b - a);
  const top = sorted.slice(0, 50);
  return {
    pcc: defined ? sum / defined : NaN,
    rmse: Math.sqrt(se / (n * G)),
    genesExcluded: G - defined,
    perGene,
    top50: top.length ? top.reduce((a, b) => a + b) / top.length : NaN,
  };
}

/** Mean and sample standard deviation. */
export function meanStd(v: number[]): { mean: number; std: number } {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const s = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1)) : 0;
  return { mean: m, std: s };
}
