/**
 * Expression normalisation: library-size scaling and log transforms, plus the released code's
 * log target transform. The released code's last step, per-gene min–max to [0, 1] within each
 * section (each slice scaled by its own spots), is a switch of the SpaHGC pipeline
 * (`targets: "section"` in `lib/model/spahgc_method.ts`), where it belongs: it is a model-side
 * rescaling, and Pearson r does not see it. `MinMaxScaler` here is the fitted-on-training form.
 */
import { CsrMatrix } from "../data/sparse.ts";

/**
 * Scales each spot's counts to `targetSum` (scanpy's `normalize_total`). `"median"` uses the
 * median library size of the spots with non-zero totals (scanpy's default); spots with a zero
 * total stay zero.
 */
export function normalizeTotal(counts: CsrMatrix, targetSum: number | "median" = 1e6): CsrMatrix {
  const totals = counts.rowSums();
  const target = targetSum === "median"
    ? median(Array.from(totals).filter((t) => t > 0))
    : targetSum;
  const data = new Float32Array(counts.nnz);
  for (let i = 0; i < counts.nRows; i++) {
    const f = totals[i] > 0 ? target / totals[i] : 0;
    for (let k = counts.indptr[i]; k < counts.indptr[i + 1]; k++) data[k] = counts.data[k] * f;
  }
  return new CsrMatrix(counts.nRows, counts.nCols, counts.indptr, counts.indices, data);
}

/** Natural log(1 + x) of every stored value (zeros stay zero). */
export function log1p(m: CsrMatrix): CsrMatrix {
  return new CsrMatrix(m.nRows, m.nCols, m.indptr, m.indices, m.data.map(Math.log1p));
}

export function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** The expression target of a method, named so notebooks and manifests can cite it. */
export type TargetTransform = "paper" | "released";

/**
 * Spots × genes dense target for the given gene columns:
 * - `paper`: counts / total × 1e6, then ln(1 + x) (the paper's text);
 * - `released`: library-size normalise (to 1e6), ln(1 + x), then log10(1 + x) — close to the
 *   authors' code, which normalises to the median library size and takes log10(1 + x) twice
 *   (scprep's `library_size_normalize` + `transform.log`, then `log10(1 + x)` in `dataset.py`),
 *   and then scales each gene to [0, 1] within each section (see the module comment).
 * Library sizes use all genes of the slice, as in both sources.
 */
export function expressionTarget(
  counts: CsrMatrix,
  geneColumns: number[],
  transform: TargetTransform = "paper",
  normalised = false,
): Float32Array {
  // Values declared log-normalised are the targets as they are (the user's own ln(1 + x)).
  const logged = (normalised ? counts : log1p(normalizeTotal(counts, 1e6))).selectCols(
    geneColumns,
  ).toDense();
  if (transform === "released") {
    for (let k = 0; k < logged.length; k++) logged[k] = Math.log10(1 + logged[k]);
  }
  return logged;
}

/** Per-gene min–max scaling to [0, 1], fitted on training data only. */
export class MinMaxScaler {
  private constructor(readonly min: Float32Array, readonly max: Float32Array) {}

  /** Fits on one or more row-major (n × g) matrices — the training slices. */
  static fit(matrices: Float32Array[], nGenes: number): MinMaxScaler {
    const min = new Float32Array(nGenes).fill(Infinity);
    const max = new Float32Array(nGenes).fill(-Infinity);
    for (const m of matrices) {
      for (let k = 0; k < m.length; k++) {
        const g = k % nGenes;
        if (m[k] < min[g]) min[g] = m[k];
        if (m[k] > max[g]) max[g] = m[k];
      }
    }
    return new MinMaxScaler(min, max);
  }

  /** Applies the fitted scaling; genes constant in training map to 0. Values outside the training range fall outside [0, 1]. */
  transform(m: Float32Array): Float32Array {
    const g = this.min.length;
    const out = new Float32Array(m.length);
    for (let k = 0; k < m.length; k++) {
      const j = k % g;
      const range = this.max[j] - this.min[j];
      out[k] = range > 0 ? (m[k] - this.min[j]) / range : 0;
    }
    return out;
  }
}
