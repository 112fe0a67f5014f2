/**
 * The cross-validation runner every method shares: prepares features and targets per slice,
 * runs the folds, writes each test slice's predictions (.h5ad) and metrics (JSON) into the run
 * folder (`run_folder.ts`), and skips test slices already finished, so an interrupted run
 * resumes where it stopped.
 */
import { DataError } from "../errors.ts";
import type { Dataset, Slice } from "../data/slice.ts";
import { expressionTarget, type TargetTransform } from "../preprocess/normalize.ts";
import { type GeneSelection, type GeneSelectionParams, selectGenes } from "../preprocess/hvg.ts";
import { assertSameDim, type FeatureExtractor, sliceFeatures } from "../features/extractors.ts";
import { meanStd, sliceMetrics } from "../eval/metrics.ts";
import { codeVersion, digestOf } from "../provenance/identity.ts";
import type { Method, PreparedSlice } from "../model/method.ts";
import { openRunFolder } from "../provenance/run_folder.ts";
import { type Fold, makeFolds, type Split } from "./cv.ts";

export interface FoldResult {
  fold: string;
  test: string;
  pcc: number;
  rmse: number;
  top50: number;
  genesExcluded: number;
  seconds: number;
  selection?: Record<string, unknown>;
}

/** A fold's test-slice metrics (what per-slice tables and the sweep store record of it). */
export function foldMetrics(f: FoldResult) {
  return {
    test: f.test,
    pcc: f.pcc,
    rmse: f.rmse,
    top50: f.top50,
    genesExcluded: f.genesExcluded,
    seconds: f.seconds,
  };
}

export interface CvReport {
  method: string;
  split: Split;
  backend: string;
  device: string;
  genes: { recipe: string; mode: "paper" | "strict"; count: number };
  target: string;
  encoder: string;
  folds: FoldResult[];
  mean: { pcc: number; rmse: number };
  std: { pcc: number; rmse: number };
  notes: string[];
}

export interface CvOptions {
  dataset: Dataset;
  method: Method;
  extractor: FeatureExtractor;
  split?: Split;
  /** Slices taking part (default: all with an image). Gene selection may use more (paper mode). */
  slices?: string[];
  /** Only these folds (by fold name). */
  folds?: string[];
  geneParams: GeneSelectionParams;
  /** `paper`: genes from all slices of the dataset; `strict`: from each fold's training slices. */
  geneMode?: "paper" | "strict";
  target?: TargetTransform;
  /** Output folder for predictions and metrics (resumable); none = keep in memory only. */
  out?: string;
  cacheDir?: string | null;
  /**
   * TEST-SET SELECTION (the authors' released code: keep the epoch with the best test-slice PCC).
   * Only for measuring how much that inflates results; every report made with it says so.
   */
  testSetSelection?: boolean;
  /** Keep `checkpoints/` after each fold (default: deleted once the fold's results are written). */
  keepCheckpoints?: boolean;
  /** The checkpoint folder the method writes (cleared after each fold; default `checkpoints/`). */
  checkpointDir?: string;
  /**
   * Runs the unfinished folds elsewhere (worker processes writing into the same run folder),
   * after features are cached and the folder is open; the runner then reads their results.
   */
  foldRunner?: (pending: Fold[]) => Promise<void>;
  progress?: (msg: string) => void;
}

function columnsFor(slice: Slice, genes: string[]): number[] {
  const col = new Map(slice.genes.map((g, j) => [g, j]));
  return genes.map((g) => {
    const j = col.get(g);
    if (j === undefined) {
      throw new DataError(`gene ${g} missing from slice ${slice.name}`, { gene: g });
    }
    return j;
  });
}

/**
 * The slices a run uses when none are named: every slice the encoder can embed — all of them for
 * precomputed embeddings (`file:`), those with an image otherwise. Fewer than two is an error
 * that says why and what to pass.
 */
export function defaultSlices(dataset: Dataset, extractor: FeatureExtractor): string[] {
  const all = dataset.slices.map((s) => s.name);
  if (extractor.id.startsWith("file:")) return all;
  const imaged = dataset.slices.filter((s) => s.image).map((s) => s.name);
  if (imaged.length >= 2) return imaged;
  throw new DataError(
    `${all.length} slice(s) in ${dataset.name}, ${imaged.length} with an image (${
      imaged.join(", ") || "none"
    }): the ${extractor.id} encoder embeds image patches, and cross-validation needs 2 slices. ` +
      `Give the slices their images (uns['spatial'][library]['images'] with scale factors, or ` +
      `uns['image_path']; docs/data-formats.md), or bring embeddings with --encoder file:DIR`,
    { file: dataset.provenance.location },
  );
}

export async function crossValidate(o: CvOptions): Promise<CvReport> {
  const split = o.split ?? "slice";
  const geneMode = o.geneMode ?? "paper";
  const target = o.target ?? "paper";
  const log = o.progress ?? ((m: string) => console.error(m));
  const names = o.slices ?? defaultSlices(o.dataset, o.extractor);
  const slices = names.map((n) => {
    const s = o.dataset.slices.find((x) => x.name === n);
    if (!s) throw new DataError(`slice ${n} not in dataset ${o.dataset.name}`);
    return s;
  });
  let folds: Fold[] = makeFolds(slices, split, o.dataset.folds);
  if (o.folds) {
    const unknown = o.folds.filter((f) => !folds.some((x) => x.name === f));
    if (unknown.length) {
      throw new DataError(
        `unknown fold(s) ${unknown.join(", ")} (folds: ${folds.map((f) => f.name).join(", ")})`,
      );
    }
    folds = folds.filter((f) => o.folds!.includes(f.name));
  }
  const notes: string[] = [];
  const paperGenes: GeneSelection | undefined = geneMode === "paper"
    ? selectGenes(o.dataset.slices, o.geneParams)
    : undefined;
  if (paperGenes) {
    notes.push(
      `genes: ${paperGenes.recipe}, ${paperGenes.genes.length} (${paperGenes.notes.join("; ")})`,
    );
  }

  // Features once per slice (cached on disk), validated and of one dimension.
  const feats = new Map<string, { x: Float32Array; dim: number }>();
  for (const s of slices) {
    const t0 = performance.now();
    const e = await sliceFeatures(
      s,
      o.extractor,
      o.cacheDir === undefined ? undefined : o.cacheDir,
    );
    feats.set(s.name, { x: e.data, dim: e.dim });
    log(
      `features ${s.name}: ${e.n} × ${e.dim} (${((performance.now() - t0) / 1000).toFixed(1)} s${
        e.notes.length ? "; " + e.notes.join("; ") : ""
      })`,
    );
  }
  const dim = assertSameDim(
    [...feats.entries()].map(([slice, f]) => ({ slice, dim: f.dim, n: 0, data: f.x, notes: [] })),
  );

  const config = {
    method: o.method.name,
    params: o.method.params,
    split,
    geneParams: o.geneParams,
    geneMode,
    target,
    encoder: o.extractor.id,
    encoderParams: o.extractor.params,
    slices: names,
    ...(o.testSetSelection ? { testSetSelection: true } : {}),
    // What the numbers are computed from: the library's code and each slice's content (counts,
    // genes, spots, embeddings), so a changed input at the same path is never resumed into.
    code: codeVersion(),
    inputs: Object.fromEntries(slices.map((s) => [
      s.name,
      digestOf(
        s.counts.data,
        s.counts.indices,
        s.counts.indptr,
        s.genes.join("\n"),
        s.spots.join("\n"),
        feats.get(s.name)!.x,
      ),
    ])),
    ...(paperGenes ? { genes: digestOf(paperGenes.genes.join("\n")) } : {}),
  };
  if (o.testSetSelection) {
    notes.push(
      "TEST-SET SELECTION: the epoch was chosen by PCC on the test slice (the released code's protocol) — these numbers are optimistic and not an honest estimate",
    );
  }
  const folder = o.out ? openRunFolder(o.out, config, o.dataset) : undefined;

  if (o.foldRunner && folder) {
    const pending = folds.filter((f) => !folder.finished(f.test));
    if (pending.length > 1) await o.foldRunner(pending);
  }
  const results: FoldResult[] = [];
  for (const [fi, fold] of folds.entries()) {
    if (folder?.finished(fold.test)) {
      for (const t of fold.test) results.push(folder.readMetrics<FoldResult>(t));
      log(`[${fi + 1}/${folds.length}] fold ${fold.name}: already done, skipped`);
      continue;
    }
    const t0 = performance.now();
    const genes = paperGenes ??
      selectGenes(o.dataset.slices.filter((s) => !fold.test.includes(s.name)), o.geneParams);
    const prep = (name: string): PreparedSlice => {
      const s = o.dataset.slices.find((x) => x.name === name)!;
      return {
        name,
        patient: s.patient,
        n: s.counts.nRows,
        x: feats.get(name)!.x,
        y: expressionTarget(s.counts, columnsFor(s, genes.genes), target, s.normalised),
        slice: s,
      };
    };
    const predictor = await o.method.fit(
      fold.train.map(prep),
      dim,
      genes.genes.length,
      o.testSetSelection ? fold.test.map(prep) : undefined,
    );
    for (const t of fold.test) {
      const ps = prep(t);
      const pred = await predictor.predict(ps);
      const m = sliceMetrics(pred, ps.y, ps.n, genes.genes.length);
      const r: FoldResult = {
        fold: fold.name,
        test: t,
        pcc: m.pcc,
        rmse: m.rmse,
        top50: m.top50,
        genesExcluded: m.genesExcluded,
        seconds: Math.round(performance.now() - t0) / 1000,
        selection: predictor.selection,
      };
      if (folder) {
        await folder.writeSlice(t, {
          X: { nRows: ps.n, nCols: genes.genes.length, data: pred },
          obsNames: ps.slice.spots,
          varNames: genes.genes,
          obs: {
            pixel_x: ps.slice.pixel.x,
            pixel_y: ps.slice.pixel.y,
            array_x: ps.slice.array.x,
            array_y: ps.slice.array.y,
            ...Object.fromEntries(
              Object.entries(ps.slice.labels).map(([k, v]) => [`label_${k}`, { categorical: v }]),
            ),
          },
          var: { pcc: Float64Array.from(m.perGene) },
          obsm: {},
          // The measured expression on the same scale, so a run folder is evaluable on its own.
          layers: { measured: { nRows: ps.n, nCols: genes.genes.length, data: ps.y } },
          uns: {
            method: o.method.name,
            test_slice: t,
            fold: fold.name,
            split,
            target_scale: target === "paper" ? "ln(1 + CPM)" : "log10(1 + ln(1 + CPM))",
          },
        }, r);
      }
      results.push(r);
      log(
        `[${fi + 1}/${folds.length}] ${t}: PCC ${m.pcc.toFixed(4)}  RMSE ${
          m.rmse.toFixed(4)
        }  (${m.genesExcluded} genes excluded, ${r.seconds} s)`,
      );
    }
    predictor.dispose?.();
    if (!o.keepCheckpoints) folder?.clearCheckpoints(o.checkpointDir);
  }
  const pcc = meanStd(results.map((r) => r.pcc)), rmse = meanStd(results.map((r) => r.rmse));
  const sel = results.find((r) => r.selection?.backend)?.selection as {
    backend?: string;
    device?: string;
  } | undefined;
  return {
    method: o.method.name,
    split,
    backend: sel?.backend ?? "cpu",
    device: sel?.device ?? (o.extractor.device === "cuda" ? "cuda (encoder)" : "cpu"),
    genes: { recipe: o.geneParams.recipe, mode: geneMode, count: paperGenes?.genes.length ?? NaN },
    target: target === "paper" ? "ln(1 + counts/total × 1e6)" : "log10(1 + ln(1 + CPM))",
    encoder: o.extractor.id,
    folds: results,
    mean: { pcc: pcc.mean, rmse: rmse.mean },
    std: { pcc: pcc.std, rmse: rmse.std },
    notes,
  };
}
