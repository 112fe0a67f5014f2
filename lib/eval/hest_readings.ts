/**
 * HEST-Benchmark's reading of predictions beside this project's (the probe that HEST scores
 * encoders with is `model/baselines/hest_probe.ts`):
 *
 * - HEST's (`hest/bench/trainer.py`, `benchmark.py`): Pearson r per gene over all test spots of
 *   a split **pooled** across its samples, averaged over genes; the task's score is the mean (and
 *   population SD) over splits;
 * - this project's (docs/evaluation.md): r within each test slice, averaged over genes, then
 *   over slices.
 *
 * The two disagree when slices differ in mean expression: pooled r rewards getting the
 * between-slice offsets right (HEST issues #127 and #144 discuss it).
 */
import { pearsonColumn, sliceMetrics } from "./metrics.ts";

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
