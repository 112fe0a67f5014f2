/**
 * HEST-Benchmark's own evaluation (mahmoodlab/HEST, `hest/bench/benchmark.py` and
 * `trainer.py`), beside this project's per-slice protocol:
 *
 * - targets: log1p of the raw counts of the task's genes (`load_adata(normalize=True)`: no
 *   library-size normalisation), for the spots that have patches;
 * - probe: embeddings standardised (sklearn StandardScaler, fitted on the training split), PCA
 *   to 256 components (fitted on the training split), ridge with α = 100 / (components × genes)
 *   and no intercept (`Ridge(solver='lsqr', fit_intercept=False)`; solved exactly here);
 * - score of a split: Pearson r per gene over all test spots of the split **pooled** across its
 *   samples, averaged over genes; the task's score is the mean (and population SD) over splits.
 *
 * The per-slice reading computes r within each test slice and averages slices (this project's
 * protocol, docs/evaluation.md). The two disagree when slices differ in mean expression: pooled
 * r rewards getting the between-slice offsets right (HEST issues #127 and #144 discuss it).
 */
import { DataError } from "../errors.ts";
import type { Slice } from "../data/slice.ts";
import { fitPcaRidge } from "../model/baselines/ridge.ts";
import { pearsonColumn, sliceMetrics } from "./metrics.ts";

/** One sample as the probe sees it: embeddings and targets, row per spot. */
export interface ProbeSample {
  name: string;
  n: number;
  x: Float32Array;
  dim: number;
  /** n × G targets. */
  y: Float32Array;
}

/** Predictions of one split's test samples, whoever made them. */
export interface SplitPredictions {
  split: string;
  /** Per test sample: predictions and truth, n × G each, on one scale. */
  samples: { name: string; n: number; pred: ArrayLike<number>; truth: ArrayLike<number> }[];
}

/** The two readings of one split. */
export interface SplitReading {
  split: string;
  /** HEST's: mean over genes of r over the split's pooled test spots. */
  pooled: number;
  pooledPerGene: Float64Array;
  /** Genes with undefined pooled r (constant), left out of the mean. */
  pooledExcluded: number;
  /** Ours: per test slice, mean over genes of r within the slice. */
  perSlice: { slice: string; pcc: number }[];
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

/** Both readings of one split's predictions. */
export function readSplit(p: SplitPredictions, G: number): SplitReading {
  const N = p.samples.reduce((a, s) => a + s.n, 0);
  const pred = new Float64Array(N * G), truth = new Float64Array(N * G);
  let off = 0;
  for (const s of p.samples) {
    if (s.pred.length !== s.n * G || s.truth.length !== s.n * G) {
      throw new RangeError(`split ${p.split}, sample ${s.name}: expected ${s.n}×${G} values`);
    }
    pred.set(s.pred, off * G);
    truth.set(s.truth, off * G);
    off += s.n;
  }
  const perGene = new Float64Array(G);
  let sum = 0, defined = 0;
  for (let g = 0; g < G; g++) {
    perGene[g] = pearsonColumn(pred, truth, N, G, g);
    if (!Number.isNaN(perGene[g])) {
      sum += perGene[g];
      defined++;
    }
  }
  return {
    split: p.split,
    pooled: defined ? sum / defined : NaN,
    pooledPerGene: perGene,
    pooledExcluded: G - defined,
    perSlice: p.samples.map((s) => ({
      slice: s.name,
      pcc: sliceMetrics(s.pred, s.truth, s.n, G).pcc,
    })),
  };
}

/** The task-level summary of split readings: HEST's (mean/SD over splits) and ours (over slices). */
export function summariseReadings(splits: SplitReading[]) {
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const sd0 = (v: number[]) => Math.sqrt(mean(v.map((x) => (x - mean(v)) ** 2)));
  const pooled = splits.map((s) => s.pooled);
  const slices = splits.flatMap((s) => s.perSlice.map((p) => p.pcc));
  return {
    /** HEST's pearson_mean / pearson_std: over splits (numpy's std, ddof 0). */
    hest: { mean: mean(pooled), sd: sd0(pooled), perSplit: pooled },
    /** Ours: mean over all test slices of their per-slice PCC (SD with ddof 1). */
    perSlice: {
      mean: mean(slices),
      sd: slices.length > 1
        ? Math.sqrt(slices.reduce((a, x) => a + (x - mean(slices)) ** 2, 0) / (slices.length - 1))
        : NaN,
      n: slices.length,
    },
  };
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
