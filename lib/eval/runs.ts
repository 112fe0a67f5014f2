/**
 * Run folders as evaluation input. A `spahgc train --out DIR` folder holds `config.json` and, per
 * test slice, `<slice>.predictions.h5ad` (X = prediction, layers['measured'] = truth on the same
 * scale, obs = coordinates and labels). This module reads such folders back, checks that
 * prediction and truth describe the same spots and genes, recomputes the metrics, and compares two
 * runs slice by slice with the paired Wilcoxon test — the `evaluate` and `compare` commands.
 */
import { join } from "node:path";
import { DataError } from "../errors.ts";
import { exists } from "../io/files.ts";
import { type AnnData, readH5ad } from "../io/h5ad.ts";
import type { Dataset } from "../data/slice.ts";
import { expressionTarget, type TargetTransform } from "../preprocess/normalize.ts";
import { RUN_FILES } from "../provenance/run_folder.ts";
import { identityDifferences } from "../provenance/identity.ts";
import { type Frame, frameOf } from "../table/frame.ts";
import { meanStd, sliceMetrics } from "./metrics.ts";
import {
  type Alternative,
  benjaminiHochberg,
  type TestResult,
  wilcoxonSignedRank,
} from "./stats.ts";

/** Expression of some spots × genes, row-major, with its names. */
export interface Expression {
  spots: string[];
  genes: string[];
  values: ArrayLike<number>;
}

/** One test slice of a run, prediction and truth aligned (same spots, same genes, same order). */
export interface RunSlice {
  test: string;
  file: string;
  spots: string[];
  genes: string[];
  predicted: Float32Array;
  measured: Float32Array;
  pixel: { x: Float64Array; y: Float64Array };
  /** Region labels per spot (e.g. `pathologist`), null where missing. */
  labels: Record<string, (string | null)[]>;
  /** What had to be fixed up to align prediction and truth (reordering, …). */
  notes: string[];
}

export interface Run {
  dir: string;
  method: string;
  config: Record<string, unknown>;
  slices: RunSlice[];
  /** Training + prediction time summed over folds (from `<slice>.metrics.json`), if recorded. */
  seconds: number | null;
}

/** Σ over folds of each fold's seconds (a fold's test slices share one timer: take its max). */
function runSeconds(dir: string): number | null {
  const perFold = new Map<string, number>();
  for (const e of Deno.readDirSync(dir)) {
    if (!e.isFile || !e.name.endsWith(RUN_FILES.metricsSuffix)) continue;
    const m = JSON.parse(Deno.readTextFileSync(join(dir, e.name)));
    if (typeof m.seconds === "number") {
      perFold.set(String(m.fold), Math.max(perFold.get(String(m.fold)) ?? 0, m.seconds));
    }
  }
  return perFold.size ? [...perFold.values()].reduce((a, b) => a + b, 0) : null;
}

/**
 * Returns `truth` rearranged into the prediction's spot and gene order. Same names in another
 * order is fixed up (and said); a spot or gene present on one side only is an error naming it;
 * a NaN or infinite prediction is an error naming the spot and gene.
 */
export function alignToPrediction(
  pred: Expression,
  truth: Expression,
  file: string,
): { measured: Float32Array; notes: string[] } {
  const n = pred.spots.length, G = pred.genes.length;
  if (pred.values.length !== n * G) {
    throw new DataError(`prediction has ${pred.values.length} values, expected ${n}×${G}`, {
      file,
    });
  }
  for (let k = 0; k < n * G; k++) {
    if (!Number.isFinite(pred.values[k])) {
      let bad = 0;
      for (let j = k; j < n * G; j++) if (!Number.isFinite(pred.values[j])) bad++;
      throw new DataError(
        `prediction is ${
          pred.values[k]
        } (${bad} non-finite values in all); expected finite numbers`,
        { file, spot: pred.spots[Math.floor(k / G)], gene: pred.genes[k % G] },
      );
    }
  }
  const index = (names: string[], what: string) => {
    const m = new Map<string, number>();
    names.forEach((v, i) => {
      if (m.has(v)) throw new DataError(`duplicate ${what} name in the truth`, { file });
      m.set(v, i);
    });
    return m;
  };
  const spotAt = index(truth.spots, "spot"), geneAt = index(truth.genes, "gene");
  const rows = pred.spots.map((s) => {
    const i = spotAt.get(s);
    if (i === undefined) {
      throw new DataError("predicted spot has no measured expression", { file, spot: s });
    }
    return i;
  });
  const cols = pred.genes.map((g) => {
    const j = geneAt.get(g);
    if (j === undefined) throw new DataError("predicted gene was not measured", { file, gene: g });
    return j;
  });
  if (truth.spots.length !== n) {
    const extra = truth.spots.find((s) => !pred.spots.includes(s));
    throw new DataError(
      `truth has ${truth.spots.length} spots, the prediction ${n}; expected the same spots`,
      { file, spot: extra },
    );
  }
  const notes: string[] = [];
  const movedSpots = rows.filter((r, i) => r !== i).length;
  const movedGenes = cols.filter((c, j) => c !== j).length;
  if (movedSpots) {
    notes.push(
      `${file}: truth reordered to the prediction's spot order (${movedSpots} of ${n} spots moved)`,
    );
  }
  if (movedGenes) {
    notes.push(
      `${file}: truth reordered to the prediction's gene order (${movedGenes} of ${G} genes moved)`,
    );
  }
  const Gt = truth.genes.length;
  const measured = new Float32Array(n * G);
  for (let i = 0; i < n; i++) {
    for (let g = 0; g < G; g++) measured[i * G + g] = truth.values[rows[i] * Gt + cols[g]];
  }
  return { measured, notes };
}

function dense(ad: AnnData, file: string): Float32Array {
  if ("indptr" in ad.X) return Float32Array.from(ad.X.toDense());
  if (!ad.X.data) throw new DataError("X is empty", { file });
  return ad.X.data instanceof Float32Array ? ad.X.data : Float32Array.from(ad.X.data);
}

/**
 * Reads a run folder. Truth comes from each file's `measured` layer; folders written before that
 * layer existed need `truth`, the dataset the run was trained on (its target transform is taken
 * from `config.json`).
 */
export async function loadRun(dir: string, truth?: Dataset): Promise<Run> {
  const cfgPath = join(dir, RUN_FILES.config);
  if (!exists(cfgPath)) {
    throw new DataError("not a run folder: no config.json (expected `spahgc train --out` output)", {
      file: dir,
    });
  }
  const config = JSON.parse(Deno.readTextFileSync(cfgPath)) as Record<string, unknown>;
  const files = [...Deno.readDirSync(dir)]
    .filter((e) => e.isFile && e.name.endsWith(RUN_FILES.predictionsSuffix))
    .map((e) => e.name)
    .sort();
  if (!files.length) {
    throw new DataError(
      "run folder holds no <slice>.predictions.h5ad (did the run finish a fold?)",
      {
        file: dir,
      },
    );
  }
  const slices: RunSlice[] = [];
  for (const name of files) {
    const file = join(dir, name);
    const ad = await readH5ad(file);
    const test = String(ad.uns.test_slice ?? name.slice(0, -RUN_FILES.predictionsSuffix.length));
    const pred: Expression = { spots: ad.obsNames, genes: ad.varNames, values: dense(ad, file) };
    let truthExpr: Expression;
    const layer = ad.layers?.measured;
    if (layer) {
      truthExpr = { spots: ad.obsNames, genes: ad.varNames, values: layer.data };
    } else if (truth) {
      const s = truth.slices.find((x) => x.name === test);
      if (!s) throw new DataError(`slice ${test} is not in dataset ${truth.name}`, { file });
      const col = new Map(s.genes.map((g, j) => [g, j]));
      const cols = ad.varNames.map((g) => {
        const j = col.get(g);
        if (j === undefined) {
          throw new DataError(`gene missing from slice ${test}`, { file, gene: g });
        }
        return j;
      });
      truthExpr = {
        spots: s.spots,
        genes: ad.varNames,
        values: expressionTarget(
          s.counts,
          cols,
          (config.target ?? "paper") as TargetTransform,
          s.normalised,
        ),
      };
    } else {
      throw new DataError(
        "no layers['measured'] (written before runs kept the truth); pass the dataset it was trained on",
        { file },
      );
    }
    const { measured, notes } = alignToPrediction(pred, truthExpr, file);
    const labels: Record<string, (string | null)[]> = {};
    for (const [k, v] of Object.entries(ad.obs)) {
      if (k.startsWith("label_") && typeof v === "object" && "categorical" in v) {
        labels[k.slice(6)] = v.categorical;
      }
    }
    if (!Object.keys(labels).length && truth) {
      const s = truth.slices.find((x) => x.name === test)!;
      const order = new Map(s.spots.map((v, i) => [v, i]));
      for (const [k, v] of Object.entries(s.labels)) {
        labels[k] = ad.obsNames.map((spot) => v[order.get(spot)!]);
      }
    }
    const num = (k: string) => {
      const c = ad.obs[k];
      return c && !Array.isArray(c) && !("categorical" in c)
        ? Float64Array.from(c)
        : new Float64Array(ad.obsNames.length);
    };
    slices.push({
      test,
      file,
      spots: pred.spots,
      genes: pred.genes,
      predicted: pred.values as Float32Array,
      measured,
      pixel: { x: num("pixel_x"), y: num("pixel_y") },
      labels,
      notes,
    });
  }
  return {
    dir,
    method: String(config.method ?? "unknown"),
    config,
    slices,
    seconds: runSeconds(dir),
  };
}

export interface SliceEvaluation {
  test: string;
  spots: number;
  genes: number;
  pcc: number;
  rmse: number;
  top50: number;
  genesExcluded: number;
}

export interface RunEvaluation {
  dir: string;
  method: string;
  config: Record<string, unknown>;
  slices: SliceEvaluation[];
  mean: { pcc: number; rmse: number; top50: number };
  std: { pcc: number; rmse: number; top50: number };
  /** Per-gene r on each test slice (NaN where undefined), for distributions. */
  perGene: { test: string; genes: string[]; r: number[] }[];
  notes: string[];
}

/** Metrics of every test slice of a run, recomputed from its files (evaluation.md). */
export function evaluateRun(run: Run): RunEvaluation {
  const perGene: RunEvaluation["perGene"] = [];
  const rows = run.slices.map((s): SliceEvaluation => {
    const m = sliceMetrics(s.predicted, s.measured, s.spots.length, s.genes.length);
    perGene.push({ test: s.test, genes: s.genes, r: Array.from(m.perGene) });
    return {
      test: s.test,
      spots: s.spots.length,
      genes: s.genes.length,
      pcc: m.pcc,
      rmse: m.rmse,
      top50: m.top50,
      genesExcluded: m.genesExcluded,
    };
  });
  const agg = (k: "pcc" | "rmse" | "top50") => meanStd(rows.map((r) => r[k]));
  const pcc = agg("pcc"), rmse = agg("rmse"), top50 = agg("top50");
  return {
    dir: run.dir,
    method: run.method,
    config: run.config,
    slices: rows,
    mean: { pcc: pcc.mean, rmse: rmse.mean, top50: top50.mean },
    std: { pcc: pcc.std, rmse: rmse.std, top50: top50.std },
    perGene,
    notes: [
      "PCC: mean over genes of the per-gene Pearson r within a slice; then mean ± sample SD over slices",
      ...run.slices.flatMap((s) => s.notes),
    ],
  };
}

export interface RunComparison {
  a: string;
  b: string;
  slices: string[];
  pccA: number[];
  pccB: number[];
  /** Mean of (a − b) over the shared slices. */
  meanDifference: number;
  test: TestResult;
  notes: string[];
}

/**
 * Paired comparison of two evaluated runs on the slices both predicted: the Wilcoxon
 * signed-rank test of per-slice PCC (scipy's defaults; `alternative` as scipy's, a vs b).
 */
export function compareRuns(
  a: RunEvaluation,
  b: RunEvaluation,
  alternative: Alternative = "two-sided",
): RunComparison {
  const inB = new Map(b.slices.map((s) => [s.test, s]));
  const shared = a.slices.filter((s) => inB.has(s.test));
  const notes: string[] = [];
  const onlyA = a.slices.filter((s) => !inB.has(s.test)).map((s) => s.test);
  const onlyB = b.slices.filter((s) => !shared.some((x) => x.test === s.test)).map((s) => s.test);
  if (onlyA.length) notes.push(`left out, only in ${a.dir}: ${onlyA.join(", ")}`);
  if (onlyB.length) notes.push(`left out, only in ${b.dir}: ${onlyB.join(", ")}`);
  if (shared.length < 2) {
    throw new DataError(
      `the runs share ${shared.length} test slice(s); a paired test needs at least 2`,
      { file: `${a.dir} vs ${b.dir}` },
    );
  }
  for (const s of shared) {
    const t = inB.get(s.test)!;
    if (s.genes !== t.genes || s.spots !== t.spots) {
      notes.push(
        `${s.test}: ${s.spots}×${s.genes} in ${a.dir} but ${t.spots}×${t.genes} in ${b.dir} — PCCs are over different spots/genes`,
      );
    }
  }
  // A paired test is only fair when both runs saw the same data in the same way.
  for (const k of ["split", "slices", "geneParams", "geneMode", "target", "encoder"]) {
    const va = JSON.stringify(a.config[k]), vb = JSON.stringify(b.config[k]);
    if (va !== vb) {
      notes.push(`runs differ in ${k}: ${va} vs ${vb} — not a like-for-like comparison`);
    }
  }
  const pccA = shared.map((s) => s.pcc), pccB = shared.map((s) => inB.get(s.test)!.pcc);
  notes.push(
    `with n = ${shared.length} slices the smallest exact two-sided p is 2/2^${shared.length} = ${
      (2 / 2 ** shared.length).toPrecision(3)
    }${shared.length < 6 ? " — p < 0.05 is out of reach" : ""}`,
  );
  if (pccA.every((v, i) => v === pccB[i])) {
    throw new DataError(
      `the runs have identical PCC on all ${shared.length} shared slices; there is nothing to test`,
      { file: `${a.dir} vs ${b.dir}` },
    );
  }
  return {
    a: a.dir,
    b: b.dir,
    slices: shared.map((s) => s.test),
    pccA,
    pccB,
    meanDifference: pccA.reduce((acc, v, i) => acc + v - pccB[i], 0) / shared.length,
    test: wilcoxonSignedRank(pccA, pccB, { alternative }),
    notes,
  };
}

export interface SeedAggregate {
  runs: string[];
  method: string;
  /** Per test slice: mean ± SD over seeds. */
  slices: { test: string; pcc: number; pccStd: number; rmse: number; rmseStd: number }[];
  /** Mean ± SD over slices of the seed-averaged per-slice values. */
  overSlices: { pcc: number; pccStd: number; rmse: number; rmseStd: number };
  /** Mean ± SD over seeds of each seed's dataset mean. */
  overSeeds: { pcc: number; pccStd: number; rmse: number; rmseStd: number };
  notes: string[];
}

/**
 * Several runs of one configuration with different seeds (evaluation.md, "with several seeds,
 * also mean ± std over seeds"). All runs must have predicted the same test slices.
 */
export function aggregateSeeds(evs: RunEvaluation[]): SeedAggregate {
  if (evs.length < 2) throw new RangeError("aggregateSeeds: need at least two runs");
  const tests = evs[0].slices.map((s) => s.test);
  for (const e of evs.slice(1)) {
    const missing = tests.filter((t) => !e.slices.some((s) => s.test === t));
    const extra = e.slices.filter((s) => !tests.includes(s.test)).map((s) => s.test);
    if (missing.length || extra.length) {
      throw new DataError(
        `seed runs must predict the same slices: ${e.dir} lacks ${
          missing.join(", ") || "none"
        } and adds ${extra.join(", ") || "none"} compared with ${evs[0].dir}`,
        { file: e.dir },
      );
    }
  }
  const notes: string[] = [];
  const methods = new Set(evs.map((e) => e.method));
  if (methods.size > 1) notes.push(`runs of different methods: ${[...methods].join(", ")}`);
  for (const k of ["split", "slices", "geneParams", "geneMode", "target", "encoder"]) {
    if (new Set(evs.map((e) => JSON.stringify(e.config[k]))).size > 1) {
      notes.push(`runs differ in ${k}: not seeds of one configuration`);
    }
  }
  const slices = tests.map((t) => {
    const vals = evs.map((e) => e.slices.find((s) => s.test === t)!);
    const p = meanStd(vals.map((v) => v.pcc)), r = meanStd(vals.map((v) => v.rmse));
    return { test: t, pcc: p.mean, pccStd: p.std, rmse: r.mean, rmseStd: r.std };
  });
  const sp = meanStd(slices.map((s) => s.pcc)), sr = meanStd(slices.map((s) => s.rmse));
  const ep = meanStd(evs.map((e) => e.mean.pcc)), er = meanStd(evs.map((e) => e.mean.rmse));
  return {
    runs: evs.map((e) => e.dir),
    method: [...methods].join("+"),
    slices,
    overSlices: { pcc: sp.mean, pccStd: sp.std, rmse: sr.mean, rmseStd: sr.std },
    overSeeds: { pcc: ep.mean, pccStd: ep.std, rmse: er.mean, rmseStd: er.std },
    notes,
  };
}

/**
 * How a set of runs differs other than by seed (method, split, slices, genes, target, encoder,
 * any method parameter): empty when they are seeds of one configuration.
 */
export function configurationDifferences(evs: RunEvaluation[]): string[] {
  const strip = (e: RunEvaluation) => {
    const { params, code: _c, inputs: _i, hash: _h, dataset: _d, provenance: _p, ...rest } = e
      .config as Record<string, unknown> & { params?: Record<string, unknown> };
    const p = JSON.parse(JSON.stringify(params ?? {}));
    delete p.seed;
    if (p.config) delete p.config.seed;
    return { ...rest, method: e.method, params: p };
  };
  const base = strip(evs[0]);
  return [...new Set(evs.slice(1).flatMap((e) => identityDifferences(base, strip(e))))];
}

/** Runs side by side: per test slice each run's PCC, then each run's mean (no pooling). */
export function sideBySide(evs: RunEvaluation[]): Frame {
  const label = (e: RunEvaluation) => `${e.method} (${runName(e)})`;
  const tests = [...new Set(evs.flatMap((e) => e.slices.map((s) => s.test)))];
  return frameOf([
    ...tests.map((t) => ({
      test: t,
      ...Object.fromEntries(
        evs.map((e) => [label(e), e.slices.find((s) => s.test === t)?.pcc ?? NaN]),
      ),
    })),
    { test: "mean PCC", ...Object.fromEntries(evs.map((e) => [label(e), e.mean.pcc])) },
    { test: "mean RMSE", ...Object.fromEntries(evs.map((e) => [label(e), e.mean.rmse])) },
  ]);
}

/** A run's folder name (its last path component), which labels it in tables. */
const runName = (e: RunEvaluation) => e.dir.replace(/\/+$/, "").replace(/^.*\//, "");

/**
 * Per-slice metrics of evaluated runs as one long table: a row per (run, test slice) with
 * method, run folder name, spots, genes, PCC, RMSE, top-50 PCC and genes excluded.
 *
 * @example
 * ```ts
 * const df = sliceTable([evaluateRun(await loadRun("runs/a")), evaluateRun(await loadRun("runs/b"))]);
 * groupInOrder(df, "method", pl.col("pcc").mean(), pl.col("pcc").std().alias("sd"));
 * ```
 */
export function sliceTable(evs: RunEvaluation | RunEvaluation[]): Frame {
  const list = Array.isArray(evs) ? evs : [evs];
  return frameOf(
    list.flatMap((e) => e.slices.map((s) => ({ method: e.method, run: runName(e), ...s }))),
    ["method", "run", "test", "spots", "genes", "pcc", "rmse", "top50", "genesExcluded"],
  );
}

/**
 * Per-gene Pearson r of a run as a long table (test, gene, r; NaN where a gene is constant), the
 * input of per-gene distributions and of `pivot` to genes × slices.
 */
export function geneTable(ev: RunEvaluation): Frame {
  return frameOf(
    ev.perGene.flatMap((p) => p.genes.map((g, j) => ({ test: p.test, gene: g, r: p.r[j] }))),
    ["test", "gene", "r"],
  );
}

export interface BenchmarkRow {
  method: string;
  slices: number;
  pcc: number;
  pccStd: number;
  rmse: number;
  rmseStd: number;
  top50: number;
  /** Paired two-sided Wilcoxon p of per-slice PCC against the reference method, BH-adjusted. */
  pVsReference: number | null;
  qVsReference: number | null;
  wallSeconds: number | null;
}

/**
 * A method-comparison table (Table 1's shape): per method mean ± SD over slices of PCC and RMSE,
 * top-50 PCC, and the paired Wilcoxon test of per-slice PCC against `reference` on the shared
 * slices (BH across the methods compared). Methods whose PCC equals the reference on every
 * slice, or that share fewer than 2 slices with it, get no p.
 */
export function benchmarkTable(
  runs: { evaluation: RunEvaluation; wallSeconds?: number }[],
  reference: string,
): { table: Frame; notes: string[] } {
  const ref = runs.find((r) => r.evaluation.method === reference)?.evaluation;
  const notes: string[] = [
    "PCC and RMSE: mean ± sample SD over test slices (per slice, not pooled)",
  ];
  if (!ref) notes.push(`reference method ${reference} not among the runs: no tests`);
  const rows: BenchmarkRow[] = runs.map(({ evaluation: e, wallSeconds }) => {
    let p: number | null = null;
    if (ref && e !== ref) {
      try {
        const c = compareRuns(e, ref);
        p = c.test.pValue;
        notes.push(
          ...c.notes.filter((n) => n.startsWith("runs differ")).map((n) => `${e.method}: ${n}`),
        );
      } catch (err) {
        notes.push(`${e.method}: no test (${(err as Error).message})`);
      }
    }
    return {
      method: e.method,
      slices: e.slices.length,
      pcc: e.mean.pcc,
      pccStd: e.std.pcc,
      rmse: e.mean.rmse,
      rmseStd: e.std.rmse,
      top50: e.mean.top50,
      pVsReference: p,
      qVsReference: null,
      wallSeconds: wallSeconds ?? null,
    };
  });
  const tested = rows.filter((r) => r.pVsReference !== null);
  benjaminiHochberg(tested.map((r) => r.pVsReference!)).forEach((
    q,
    i,
  ) => (tested[i].qVsReference = q));
  if (ref) {
    const n = ref.slices.length;
    notes.push(
      `p: paired two-sided Wilcoxon signed-rank of per-slice PCC vs ${reference} (exact for small n; floor 2/2^${n} = ${
        (2 / 2 ** n).toPrecision(3)
      }); q: Benjamini–Hochberg over the ${tested.length} comparisons`,
    );
  }
  return { table: frameOf(rows), notes };
}
