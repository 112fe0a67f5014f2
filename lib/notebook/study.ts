/**
 * What the paper notebooks share: pick the dataset for the profile, run a list of labelled
 * configurations through the cross-validation runner into run folders keyed by configuration
 * (so notebooks that need the same run — Table 1's SpaHGC and Table 2's "full" row — share it,
 * and a killed notebook resumes), and read them back as evaluations.
 */
import { join } from "node:path";
import { WarningLog } from "../errors.ts";
import { DATASETS, loadDataset, resolveDatasetDir } from "../datasets/registry.ts";
import { PROJECT_ROOT } from "../paths.ts";
import type { Dataset } from "../data/slice.ts";
import {
  DEFAULT_GENE_PARAMS,
  defaultGeneRecipe,
  type GeneSelectionParams,
} from "../preprocess/hvg.ts";
import type { SpaHGCOptions } from "../model/spahgc_method.ts";
import type { CvReport } from "../train/experiment.ts";
import { type RunConfig, runExperiment, runIdentity } from "../train/run_config.ts";
import type { Split } from "../train/cv.ts";
import { evaluateRun, loadRun, type Run, type RunEvaluation } from "../eval/runs.ts";

/** Where notebooks write: `$SPAHGC_FIGURES_DIR`, else `figures/` in the project. */
export function figuresRoot(): string {
  return Deno.env.get("SPAHGC_FIGURES_DIR") ?? join(PROJECT_ROOT, "figures");
}

/** The HER2+ sections with full-resolution images (the folds of every HER2+ study here). */
export const HER2_IMAGED = ["B4", "C2", "C3", "C4", "C5", "C6"];

export interface StudyData {
  dataset: Dataset;
  /** Slices taking part in cross-validation. */
  slices: string[];
  geneParams: GeneSelectionParams;
  /** Said in every table: which data the numbers come from. */
  note: string;
}

/**
 * HER2+ when it is on this machine (the 6 imaged sections, the 785-gene `histogene` set),
 * otherwise the embedded synthetic cohort — said loudly, since those numbers mean nothing for
 * the paper.
 */
export async function studyData(prefer: "her2st" | "synthetic" = "her2st"): Promise<StudyData> {
  let available = false;
  if (prefer === "her2st") {
    try {
      resolveDatasetDir(DATASETS.find((d) => d.name === "her2st")!);
      available = true;
    } catch {
      available = false;
    }
  }
  if (available) {
    const dataset = await loadDataset("her2st", { log: new WarningLog(false) });
    return {
      dataset,
      slices: HER2_IMAGED,
      geneParams: { ...DEFAULT_GENE_PARAMS, recipe: defaultGeneRecipe("her2st") },
      note:
        "HER2+ (Andersson et al.): the 6 sections with full-resolution images (B4, C2–C6), 785 genes (HisToGene's recipe), built-in image features",
    };
  }
  const dataset = await loadDataset("synthetic");
  return {
    dataset,
    slices: dataset.slices.map((s) => s.name),
    geneParams: { ...DEFAULT_GENE_PARAMS, recipe: defaultGeneRecipe("synthetic") },
    note: prefer === "her2st"
      ? "HER2+ data not found (see data/README.md): the embedded SYNTHETIC cohort stands in — numbers are not comparable with the paper"
      : "the embedded synthetic cohort",
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
    dataset: o.data.dataset.name,
    slices: o.data.slices,
    split: o.split ?? "slice",
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

/** A study's results as table rows (PCC/RMSE mean ± SD over slices, labelled measured). */
export function measuredRows(
  results: StudyResult[],
  extra: (r: StudyResult) => Record<string, unknown> = () => ({}),
) {
  return results.map((r) => ({
    source: "measured",
    setting: r.label,
    ...extra(r),
    slices: r.evaluation.slices.length,
    pcc: r.evaluation.mean.pcc,
    pccSd: r.evaluation.std.pcc,
    rmse: r.evaluation.mean.rmse,
    rmseSd: r.evaluation.std.rmse,
    seconds: r.run.seconds,
  }));
}
