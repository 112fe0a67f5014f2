/**
 * HEST-Benchmark's linear probe (mahmoodlab/HEST `bench/benchmark.py`, `bench/trainer.py`) and
 * its targets: embeddings standardised and reduced by PCA to 256 components (both fitted on the
 * training split), ridge with α = 100 / (components × genes) and no intercept, on log1p of the
 * raw counts (`load_adata(normalize=True)`). How its predictions are read: `eval/hest_readings.ts`.
 */
import { DataError } from "../../errors.ts";
import type { Slice } from "../../data/slice.ts";
import type { SplitPredictions } from "../../eval/hest_readings.ts";
import { fitPcaRidge } from "./ridge.ts";

/** One sample as the probe sees it: embeddings and targets, row per spot. */
export interface ProbeSample {
  name: string;
  n: number;
  x: Float32Array;
  dim: number;
  /** n × G targets. */
  y: Float32Array;
}

/** HEST's targets for a slice: ln(1 + raw count) of `genes`, n × G. */
export function hestTargets(slice: Slice, genes: string[]): Float32Array {
  if (slice.normalised) {
    throw new DataError(
      `slice ${slice.name} holds log-normalised values, HEST's targets are log1p of raw counts`,
    );
  }
  const col = new Map(slice.genes.map((g, j) => [g, j]));
  const cols = genes.map((g) => {
    const j = col.get(g);
    if (j === undefined) {
      throw new DataError(`gene ${g} missing from slice ${slice.name}`, { gene: g });
    }
    return j;
  });
  const G = genes.length, n = slice.counts.nRows;
  const out = new Float32Array(n * G);
  const where = new Map(cols.map((c, g) => [c, g]));
  const m = slice.counts;
  for (let r = 0; r < n; r++) {
    for (let k = m.indptr[r]; k < m.indptr[r + 1]; k++) {
      const g = where.get(m.indices[k]);
      if (g !== undefined) out[r * G + g] = Math.log1p(m.data[k]);
    }
  }
  return out;
}

/** What the probe fitted on one split. */
export interface ProbeFit {
  split: string;
  components: number;
  alpha: number;
  nTrain: number;
  predictions: SplitPredictions;
}

/**
 * HEST's linear probe on one split: standardise → PCA (≤ `latentDim`) → ridge with HEST's α, no
 * intercept; fitted on the training samples, predicting the test samples.
 *
 * @example
 * ```ts
 * const fit = hestProbe(samples, { name: "split0", train: ["A", "B"], test: ["C"] }, 50);
 * readSplit(fit.predictions, 50).pooled;
 * ```
 */
export function hestProbe(
  samples: Map<string, ProbeSample>,
  fold: { name: string; train: string[]; test: string[] },
  G: number,
  latentDim = 256,
): ProbeFit {
  const get = (n: string) => {
    const s = samples.get(n);
    if (!s) throw new DataError(`split ${fold.name} names sample ${n}, which has no embeddings`);
    return s;
  };
  const train = fold.train.map(get), test = fold.test.map(get);
  const d = train[0].dim;
  const N = train.reduce((a, s) => a + s.n, 0);
  const x = new Float32Array(N * d), y = new Float32Array(N * G);
  let off = 0;
  for (const s of train) {
    if (s.dim !== d) throw new DataError(`sample ${s.name}: ${s.dim}-d embeddings, others ${d}-d`);
    x.set(s.x, off * d);
    y.set(s.y, off * G);
    off += s.n;
  }
  const k = Math.min(latentDim, d, Math.max(1, N - 1));
  const alpha = 100 / (k * G);
  const [model] = fitPcaRidge(x, y, N, d, G, [alpha], k, { perSpot: false, intercept: false });
  return {
    split: fold.name,
    components: k,
    alpha,
    nTrain: N,
    predictions: {
      split: fold.name,
      samples: test.map((s) => ({
        name: s.name,
        n: s.n,
        pred: model.predict(s.x, s.n),
        truth: s.y,
      })),
    },
  };
}
