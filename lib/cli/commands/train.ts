/** `spahgc train`. */
import { join } from "node:path";
import { WarningLog } from "../../errors.ts";
import { type RunConfig, runExperiment, runIdentity } from "../../train/run_config.ts";
import { METHOD_NAMES } from "../../model/methods.ts";
import { type Split, SPLITS } from "../../train/cv.ts";
import { defaultSplit } from "../../datasets/registry.ts";
import { foldMetrics } from "../../train/experiment.ts";
import { type Command, json } from "../command.ts";
import { frameOf, markdownOf } from "../../table/frame.ts";
import { UsageError } from "../options.ts";
import {
  ANNDATA_OPTIONS,
  annDataOptions,
  ENCODER_OPTIONS,
  GENE_LIST_OPTION,
  GENE_OPTIONS,
  geneParams,
  METHOD_OPTIONS,
  spahgcOptions,
} from "../shared_options.ts";

export const trainCommand: Command = {
  usage: `spahgc train <dataset> [--method ${
    METHOD_NAMES.join("|")
  }] [--split slice|patient|dataset] [--folds A,B] [--slices …] [--encoder …] [--out DIR] [--parallel N] [--json]`,
  summary:
    "cross-validated training and evaluation; per-slice PCC/RMSE, predictions as .h5ad under --out (resumable)",
  options: {
    method: {
      type: "string",
      help: `${METHOD_NAMES.join(" | ")} (default spahgc; \`spahgc methods\` describes each)`,
    },
    ...METHOD_OPTIONS,
    split: {
      type: "string",
      choices: SPLITS,
      help:
        "slice (leave-one-slice-out) | patient (leave-one-patient-out) | dataset (the folds a HEST-Benchmark task comes with); default: dataset where the data has folds, else slice",
    },
    folds: { type: "string", help: "only these folds (slice or patient names)" },
    slices: { type: "string", help: "slices taking part (default: all with an image)" },
    ...ENCODER_OPTIONS,
    "gene-mode": {
      type: "string",
      choices: ["paper", "strict"],
      help: "paper (genes from all slices, default) | strict (training slices only)",
    },
    ...GENE_OPTIONS,
    ...GENE_LIST_OPTION,
    out: {
      type: "string",
      help:
        "run folder: predictions (.h5ad) and metrics per test slice; reruns resume (default $SPAHGC_RUNS_DIR or runs/, then <method>-<identity>; printed)",
    },
    parallel: {
      type: "integer",
      min: 1,
      max: 64,
      help:
        "folds trained at once, each in its own process, the cores divided among them (default 1)",
    },
    "keep-checkpoints": {
      type: "boolean",
      help: "keep each fold's training checkpoints (default: deleted once the fold is done)",
    },
    cache: { type: "string", help: "feature cache folder or 'none'" },
    "data-dir": { type: "string", help: "data directory" },
    ...ANNDATA_OPTIONS,
    json: { type: "boolean", help: "one JSON object on stdout" },
  },
  async run(v) {
    const [name] = v.positionals;
    if (!name) throw new UsageError("missing <dataset>");
    const split = v.choice<Split>("split", SPLITS, defaultSplit(name));
    const geneMode = v.choice("gene-mode", ["paper", "strict"], "paper");
    // Options first (runExperiment builds the method before it reads anything): a usage
    // error never waits for, or depends on, the data.
    const options = spahgcOptions(v);
    const method = v.str("method") ?? "spahgc";
    const config: RunConfig = {
      dataset: name,
      dataDir: v.str("data-dir"),
      anndata: annDataOptions(v),
      slices: v.list("slices"),
      split,
      folds: v.list("folds"),
      genes: geneParams(name, v),
      geneMode,
      encoder: v.str("encoder") ?? "builtin",
      embeddingKey: v.str("embedding-key"),
      method,
      options,
    };
    // Results are always kept: without --out, in a folder named by the run's identity (the
    // same command resumes it; any other setting or code gets another).
    const out = v.str("out") ??
      join(Deno.env.get("SPAHGC_RUNS_DIR") ?? "runs", `${method}-${runIdentity(config)}`);
    console.error(`run folder: ${out}`);
    const report = await runExperiment(config, {
      out,
      cacheDir: v.str("cache") === "none" ? null : v.str("cache"),
      warnings: new WarningLog(!v.flag("json")),
      keepCheckpoints: v.flag("keep-checkpoints"),
      parallel: v.int("parallel") ?? 1,
    });
    if (v.flag("json")) json(report);
    else {
      console.log(
        `${report.method}, ${report.split} split, ${report.folds.length} test slices, encoder ${report.encoder}, target ${report.target}`,
      );
      console.log(
        markdownOf(
          frameOf(report.folds.map(foldMetrics)),
        ).trimEnd(),
      );
      console.log(
        `mean PCC ${report.mean.pcc.toFixed(4)} ± ${report.std.pcc.toFixed(4)}, RMSE ${
          report.mean.rmse.toFixed(4)
        } ± ${report.std.rmse.toFixed(4)} (per slice, not pooled)`,
      );
      for (const n of report.notes) console.log(`note: ${n}`);
    }
    return 0;
  },
};
