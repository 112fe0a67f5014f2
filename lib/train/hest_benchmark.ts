/**
 * A HEST-Benchmark task run both ways on the same predictions: HEST's own linear probe (and any
 * of this project's methods, cross-validated over the task's splits through `runExperiment`),
 * each read by HEST's protocol (PCC pooled over a split's test spots, mean over splits) and by
 * this project's (PCC per test slice, mean over slices). See `eval/hest_readings.ts` and `model/baselines/hest_probe.ts`.
 */
import { join } from "node:path";
import { DataError, WarningLog } from "../errors.ts";
import { loadDataset } from "../datasets/registry.ts";
import { parseEncoder, sliceFeatures } from "../features/extractors.ts";
import { loadRun } from "../eval/runs.ts";
import { readSplit, type SplitReading, summariseReadings } from "../eval/hest_readings.ts";
import { hestProbe, hestTargets, type ProbeSample } from "../model/baselines/hest_probe.ts";
import { type Frame, frameOf } from "../table/frame.ts";
import type { SpaHGCOptions } from "../model/spahgc_method.ts";
import { runExperiment } from "./run_config.ts";
import { expressionTarget } from "../preprocess/normalize.ts";

export interface HestBenchmarkOptions {
  /** The task folder (`…/hest-bench/IDC`). */
  task: string;
  /** `builtin`, `onnx:PATH` or `file:PATH` (default builtin). */
  encoder?: string;
  /** This project's methods to run beside the probe (e.g. ridge, spahgc); default none. */
  methods?: string[];
  /** Options for those methods (epochs, preset, …). */
  options?: SpaHGCOptions;
  /** Folder for the methods' run folders (resumable); required when `methods` is given. */
  out?: string;
  cacheDir?: string | null;
  log?: (line: string) => void;
}

/** One row of the comparison: a method's two readings. */
export interface HestBenchmarkRow {
  method: string;
  target: string;
  hestPcc: number;
  hestSd: number;
  perSlicePcc: number;
  perSliceSd: number;
  /** Rank among the rows on ln(1 + CPM); null for the HEST-target probe row. */
  hestRank: number | null;
  perSliceRank: number | null;
}

const HEST_TARGET = "log1p(counts) (HEST)";
const OUR_TARGET = "ln(1 + CPM)";

export interface HestBenchmarkResult {
  table: Frame;
  /** Per method, per split: both readings. */
  splits: Record<string, SplitReading[]>;
  probe: { split: string; components: number; alpha: number; nTrain: number }[];
  genes: string[];
  notes: string[];
}

/**
 * Runs HEST's probe (and `methods`) on a task and tabulates both readings with their ranks.
 *
 * @example
 * ```ts
 * const r = await runHestBenchmark({ task: "/data/hest-bench/IDC", methods: ["ridge"], out: "runs/idc" });
 * console.log(r.table.toString());
 * ```
 */
export async function runHestBenchmark(o: HestBenchmarkOptions): Promise<HestBenchmarkResult> {
  const log = o.log ?? ((m: string) => console.error(m));
  const warnings = new WarningLog(true);
  const ds = await loadDataset(o.task, { log: warnings });
  if (!ds.folds?.length || !ds.genes?.length) {
    throw new DataError("not a HEST-Benchmark task (no splits/ or gene list)", { file: o.task });
  }
  const genes = ds.genes, G = genes.length;
  const encoder = o.encoder ?? "builtin";
  const extractor = parseEncoder(encoder);
  // The probe on HEST's targets (log1p of raw counts) and on this project's (ln(1 + CPM)), so
  // that methods are compared on one target: raw counts carry each spot's library size, which
  // the image predicts well on its own.
  const hestSamples = new Map<string, ProbeSample>(), ourSamples = new Map<string, ProbeSample>();
  try {
    for (const s of ds.slices) {
      const e = await sliceFeatures(s, extractor, o.cacheDir);
      const base = { name: s.name, n: e.n, x: e.data, dim: e.dim };
      hestSamples.set(s.name, { ...base, y: hestTargets(s, genes) });
      const col = new Map(s.genes.map((g, j) => [g, j]));
      ourSamples.set(s.name, {
        ...base,
        y: expressionTarget(s.counts, genes.map((g) => col.get(g)!), "paper", s.normalised),
      });
    }
  } finally {
    await extractor.close();
  }
  const splits: Record<string, SplitReading[]> = {};
  const targets: Record<string, string> = {};
  const probe = [];
  for (
    const [label, samples, target] of [
      [`hest-probe (${encoder}), HEST target`, hestSamples, HEST_TARGET],
      [`hest-probe (${encoder})`, ourSamples, OUR_TARGET],
    ] as const
  ) {
    const readings: SplitReading[] = [];
    for (const f of ds.folds) {
      const fit = hestProbe(samples, f, G);
      if (samples === hestSamples) {
        probe.push({
          split: f.name,
          components: fit.components,
          alpha: fit.alpha,
          nTrain: fit.nTrain,
        });
      }
      readings.push(readSplit(fit.predictions, G));
      log(`${label} ${f.name}: pooled PCC ${readings.at(-1)!.pooled.toFixed(4)}`);
    }
    splits[label] = readings;
    targets[label] = target;
  }
  for (const m of o.methods ?? []) {
    if (!o.out) {
      throw new DataError("running methods on a HEST-Benchmark task needs an output folder");
    }
    const dir = join(o.out, m);
    await runExperiment(
      { dataset: o.task, method: m, split: "dataset", encoder, options: o.options },
      { out: dir, data: ds, cacheDir: o.cacheDir, log, warnings },
    );
    const run = await loadRun(dir);
    const bySlice = new Map(run.slices.map((s) => [s.test, s]));
    const Gm = run.slices[0]?.genes.length ?? G;
    splits[m] = ds.folds.map((f) =>
      readSplit({
        split: f.name,
        samples: f.test.map((t) => {
          const s = bySlice.get(t);
          if (!s) throw new DataError(`run ${dir} has no predictions for ${t}`, { file: dir });
          return { name: t, n: s.spots.length, pred: s.predicted, truth: s.measured };
        }),
      }, Gm)
    );
    // runExperiment trains on the project's target (RunConfig has no other): ln(1 + CPM).
    targets[m] = OUR_TARGET;
  }
  const rows = Object.entries(splits).map(([method, r]) => {
    const s = summariseReadings(r);
    return {
      method,
      target: targets[method],
      hestPcc: s.hest.mean,
      hestSd: s.hest.sd,
      perSlicePcc: s.perSlice.mean,
      perSliceSd: s.perSlice.sd,
    };
  });
  // Ranks among the rows on this project's target (the HEST-target probe row is not ranked:
  // its numbers are on another scale of difficulty).
  const rank = (key: "hestPcc" | "perSlicePcc") => {
    const order = rows.filter((r) => r.target === OUR_TARGET).sort((a, b) => b[key] - a[key])
      .map((r) => r.method);
    return (m: string) => (order.includes(m) ? order.indexOf(m) + 1 : null);
  };
  const hr = rank("hestPcc"), pr = rank("perSlicePcc");
  const table = frameOf(
    rows.map((r) => ({ ...r, hestRank: hr(r.method), perSliceRank: pr(r.method) })),
  );
  const notes = [
    "hestPcc: HEST-Benchmark's reading — per gene, Pearson r over all test spots of a split pooled across its samples; mean over genes; mean (SD, ddof 0) over splits",
    "perSlicePcc: this project's reading (docs/evaluation.md) — per gene r within each test slice; mean over genes; mean (SD, ddof 1) over test slices",
    `hest-probe: StandardScaler → PCA (${
      probe[0]?.components
    } components) → ridge α = 100/(components × ${G} genes), no intercept, fitted on each split's training samples (HEST's trainer.py); its 'HEST target' row on HEST's log1p(raw counts), which keep each spot's library size (the image predicts sequencing depth too), so that row is not ranked with the others`,
    "ranks: among the rows on ln(1 + CPM), by each reading",
    ...(o.methods?.length
      ? [
        "the project's methods predict their own target (ln(1 + CPM)); both readings are taken on those predictions",
      ]
      : []),
    ...warnings.warnings.map((w) => `data: ${w.message}`),
  ];
  return { table, splits, probe, genes, notes };
}
