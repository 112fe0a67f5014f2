/**
 * What the paper notebooks share: pick the dataset for the profile, run a list of labelled
 * configurations through the cross-validation runner into run folders keyed by configuration
 * (so notebooks that need the same run — Table 1's SpaHGC and Table 2's "full" row — share it,
 * and a killed notebook resumes), and read them back as evaluations.
 */
import { join } from "node:path";
import { WarningLog } from "../errors.ts";
import {
  datasetSpec,
  defaultGeneParams,
  defaultSplit,
  loadDataset,
  resolveDatasetDir,
} from "../datasets/registry.ts";
import { SYNTHETIC } from "../datasets/synthetic.ts";
import { PROJECT_ROOT } from "../paths.ts";
import type { Dataset } from "../data/slice.ts";
import type { GeneSelectionParams } from "../preprocess/hvg.ts";
import type { SpaHGCOptions } from "../model/spahgc_method.ts";
import type { CvReport } from "../train/experiment.ts";
import { type RunConfig, runExperiment, runIdentity } from "../train/run_config.ts";
import type { Split } from "../train/cv.ts";
import { evaluateRun, loadRun, type Run, type RunEvaluation } from "../eval/runs.ts";
import { type Frame, frameOf, groupInOrder, pl } from "../table/frame.ts";

/** Where notebooks write: `$SPAHGC_FIGURES_DIR`, else `figures/` in the project. */
export function figuresRoot(): string {
  return Deno.env.get("SPAHGC_FIGURES_DIR") ?? join(PROJECT_ROOT, "figures");
}

export interface StudyData {
  dataset: Dataset;
  /** The name it is loaded by (registry name or path), what run configurations record. */
  datasetName: string;
  /** How its studies cross-validate: leave-one-slice-out, or the folds it comes with. */
  split: Split;
  /** Its folds' names under that split (what a notebook's `folds` parameter picks from). */
  foldNames: string[];
  /** Slices taking part in cross-validation. */
  slices: string[];
  geneParams: GeneSelectionParams;
  /** Said in every table: which data the numbers come from. */
  note: string;
  /** The dataset asked for was not on this machine and the synthetic cohort stands in. */
  standIn: boolean;
}

/**
 * The data a paper notebook runs on: the registered dataset `name` (default HER2+: its default
 * slices and gene recipe, from its spec) when it is on this machine, otherwise the embedded
 * synthetic cohort — said loudly, since those numbers mean nothing for the paper. A path (a
 * HEST-1k root with its selection query, a HEST-Benchmark task, AnnData) is read as it is.
 */
export async function studyData(name = "her2st"): Promise<StudyData> {
  const spec = datasetSpec(name);
  let available = true;
  try {
    if (spec?.folder) resolveDatasetDir(spec);
  } catch {
    available = false;
  }
  const use = available ? name : SYNTHETIC.name;
  const useSpec = available ? spec : SYNTHETIC;
  const dataset = await loadDataset(use, { log: new WarningLog(false) });
  const slices = useSpec?.cvSlices ?? dataset.slices.filter((s) => s.image).map((s) => s.name);
  const split = defaultSplit(use);
  return {
    dataset,
    datasetName: use,
    slices,
    split,
    foldNames: split === "dataset" ? (dataset.folds ?? []).map((f) => f.name) : slices,
    geneParams: defaultGeneParams(use),
    standIn: !available,
    note: !available
      ? `${name} data not found (see data/README.md): the embedded SYNTHETIC cohort stands in — numbers are not comparable with the paper`
      : useSpec
      ? useSpec.studyNote ?? `${useSpec.name}: ${useSpec.description}`
      : `${dataset.name} (${dataset.provenance.source}, ${dataset.provenance.location}): ${slices.length} slices`,
  };
}

/** One labelled configuration of a study. */
export interface StudyConfig {
  label: string;
  method: string;
  options?: SpaHGCOptions;
  /** `builtin` (default), `onnx:PATH` or `file:PATH`. */
  encoder?: string;
}

export interface StudyResult {
  label: string;
  config: StudyConfig;
  run: Run;
  evaluation: RunEvaluation;
  report: CvReport;
}

export interface StudyOptions {
  data: StudyData;
  split?: Split;
  /** Only these folds (quick profiles). */
  folds?: string[];
  /** Root of the shared run folders (default figures/runs). */
  runsDir?: string;
  log?: (line: string) => void;
}

/** A study configuration as the experiment core's run configuration. */
export function studyRunConfig(c: StudyConfig, o: StudyOptions): RunConfig {
  return {
    dataset: o.data.datasetName,
    slices: o.data.slices,
    split: o.split ?? o.data.split,
    folds: o.folds,
    genes: o.data.geneParams,
    encoder: c.encoder ?? "builtin",
    method: c.method,
    options: c.options,
  };
}

/**
 * Folder of a configuration's run, named by the experiment core's identity (settings and code
 * version), so notebooks needing the same run share it and a library change gives a new folder.
 */
export function runFolder(c: StudyConfig, o: StudyOptions): string {
  return join(
    o.runsDir ?? join(figuresRoot(), "runs"),
    `${c.method}-${runIdentity(studyRunConfig(c, o))}`,
  );
}

/** Runs (or resumes, or reuses) each configuration and evaluates it from its run folder. */
export async function runStudy(configs: StudyConfig[], o: StudyOptions): Promise<StudyResult[]> {
  const out: StudyResult[] = [];
  const log = o.log ?? ((l: string) => console.error(l));
  for (const c of configs) {
    const dir = runFolder(c, o);
    const t0 = performance.now();
    const report = await runExperiment(
      {
        ...studyRunConfig(c, o),
        options: { ...c.options, progress: c.options?.progress ?? (() => {}) },
      },
      { out: dir, data: o.data.dataset, log: () => {} },
    );
    const run = await loadRun(dir);
    out.push({ label: c.label, config: c, run, evaluation: evaluateRun(run), report });
    log(
      `${c.label}: PCC ${report.mean.pcc.toFixed(4)} over ${report.folds.length} test slice(s) (${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s this call; run folder ${dir})`,
    );
  }
  return out;
}

/**
 * A study's per-slice results as one long DataFrame: a row per (setting, test slice) with the
 * method, PCC, RMSE and top-50 PCC — what the per-slice figures and summaries start from.
 *
 * @example
 * ```ts
 * const perSlice = studyTable(results);
 * pccBarFigure(rowsOf(perSlice.select(pl.col("setting").alias("method"), "slice", "pcc")));
 * ```
 */
export function studyTable(results: StudyResult[]): Frame {
  return frameOf(
    results.flatMap((r) =>
      r.evaluation.slices.map((s) => ({
        setting: r.label,
        method: r.config.method,
        slice: s.test,
        pcc: s.pcc,
        rmse: s.rmse,
        top50: s.top50,
      }))
    ),
    ["setting", "method", "slice", "pcc", "rmse", "top50"],
  );
}

/**
 * A study's results as a table, one row per setting: PCC and RMSE mean ± sample SD over its test
 * slices (grouped from `studyTable` with polars), labelled measured, with the run's wall time and
 * any `extra` columns per setting.
 */
export function measuredTable(
  results: StudyResult[],
  extra: (r: StudyResult) => Record<string, unknown> = () => ({}),
): Frame {
  const summary = groupInOrder(
    studyTable(results),
    "setting",
    pl.col("slice").count().cast(pl.Int32).alias("slices"),
    pl.col("pcc").mean().alias("pcc"),
    pl.col("pcc").std().alias("pccSd"),
    pl.col("rmse").mean().alias("rmse"),
    pl.col("rmse").std().alias("rmseSd"),
  );
  const labels = frameOf(
    results.map((r) => ({
      source: "measured",
      setting: r.label,
      ...extra(r),
      seconds: r.run.seconds ?? null,
    })),
  );
  const front = labels.columns.filter((c) => c !== "seconds");
  return labels.join(summary, { on: "setting", how: "left" })
    .select(...front, ...summary.columns.filter((c) => c !== "setting"), "seconds");
}
