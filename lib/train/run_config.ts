/**
 * One experiment core. A `RunConfig` says everything that determines a cross-validated run's
 * numbers apart from the inputs' content (dataset, slices, split, folds, genes, encoder,
 * method and its options — selection and seed among them); `runExperiment` executes it. The
 * CLI's `train`, the paper notebooks' studies and the sweeps' runs all go through here, so the
 * pipeline (load → encoder → method → cross-validate) is written once, and `runIdentity` is the
 * one name a configuration has. The run folder itself (`run_folder.ts`) adds the inputs' digests
 * and the code version to that identity and refuses to resume anything else.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { DataError, WarningLog } from "../errors.ts";
import { datasetSpec, defaultSplit, geneParamsFor, loadDataset } from "../datasets/registry.ts";
import type { Dataset } from "../data/slice.ts";
import { parseEncoder } from "../features/extractors.ts";
import type { GeneSelectionParams } from "../preprocess/hvg.ts";
import { methodByName } from "../model/methods.ts";
import type { SpaHGCOptions } from "../model/spahgc_method.ts";
import { codeVersion } from "../provenance/identity.ts";
import type { AnnDataReadOptions } from "../io/anndata_slices.ts";
import { RUN_FILES } from "../provenance/run_folder.ts";
import type { Fold, Split } from "./cv.ts";
import { crossValidate, type CvReport } from "./experiment.ts";

/** Everything a run's numbers depend on, besides the content of its inputs. */
export interface RunConfig {
  /** Registered dataset name (`spahgc data info` lists them). */
  dataset: string;
  /** Where the dataset lives, if not found by the registry's search path (not part of identity). */
  dataDir?: string;
  /** How an `.h5ad` path is read (slice and patient columns, where the counts are). */
  anndata?: Omit<AnnDataReadOptions, "log">;
  /** Slices taking part (default: the dataset spec's `cvSlices`, else every slice with an image). */
  slices?: string[];
  split?: Split;
  /** Only these folds (by fold name). */
  folds?: string[];
  /** Gene selection; the recipe defaults to the dataset's. */
  genes?: Partial<GeneSelectionParams>;
  /** `paper`: genes from all slices; `strict`: from each fold's training slices. */
  geneMode?: "paper" | "strict";
  /** `builtin` (default), `onnx:PATH` or `file:PATH`. */
  encoder?: string;
  /** With `file:…h5ad` embeddings: their `obsm` key (default `X_embedding`). */
  embeddingKey?: string;
  /** Method name (`spahgc train --help` lists them). */
  method: string;
  /** The method's options: preset, epochs, selection, seed, graph, ablations, … */
  options?: SpaHGCOptions;
}

/** Fields of `SpaHGCOptions` that steer how a run is executed, not what it computes. */
const EXECUTION_ONLY = [
  "progress",
  "checkpointDir",
  "checkpointEverySeconds",
  "stopAfterEpochs",
  "backend",
] as const;

/** The configuration with every default filled in, as it is recorded and hashed. */
export function normalizeRunConfig(c: RunConfig) {
  const options = { ...c.options } as Record<string, unknown>;
  for (const k of EXECUTION_ONLY) delete options[k];
  return {
    dataset: c.dataset,
    ...(c.anndata ? { anndata: c.anndata } : {}),
    slices: c.slices ?? null,
    split: c.split ?? defaultSplit(c.dataset),
    folds: c.folds ?? null,
    genes: { ...geneParamsFor(c.dataset, c.genes?.recipe), ...c.genes },
    geneMode: c.geneMode ?? "paper",
    encoder: c.encoder ?? "builtin",
    ...(c.embeddingKey ? { embeddingKey: c.embeddingKey } : {}),
    method: c.method,
    options,
  };
}

/**
 * A short, stable name for a configuration under the current code: two configurations with the
 * same numbers-determining settings share it, any other setting or a library change gives
 * another. (Backend and progress reporting are not part of it.)
 *
 * @example
 * ```ts
 * runIdentity({ dataset: "her2st", method: "ridge" }); // "4f1c…", 12 hex digits
 * ```
 */
export function runIdentity(c: RunConfig): string {
  const key = JSON.stringify({ ...normalizeRunConfig(c), code: codeVersion() });
  return createHash("sha256").update(key).digest("hex").slice(0, 12);
}

export interface RunExecution {
  /** Run folder (resumable); none keeps the results in memory only. */
  out?: string;
  /** An already loaded dataset (studies load it once for many runs); else loaded from `dataset`. */
  data?: Dataset;
  /** Feature cache folder, or null for none (default: the project cache). */
  cacheDir?: string | null;
  /** The runner's per-fold lines (default: standard error). */
  log?: (line: string) => void;
  /** Data warnings while loading (default: printed). */
  warnings?: WarningLog;
  /** Keep each fold's checkpoints in the run folder (default: deleted when the fold is done). */
  keepCheckpoints?: boolean;
  /**
   * Folds trained at once, each in its own worker process writing into `out` (default 1: one
   * after another). The cores are divided among them (OpenBLAS threads), unless
   * OPENBLAS_NUM_THREADS is set; results equal the sequential run's at the same thread count.
   */
  parallel?: number;
}

/**
 * The environment that divides the cores among `workers` processes: OPENBLAS_NUM_THREADS =
 * cores / workers, unless the user set it (without it each worker's OpenBLAS starts a thread per
 * core: workers × cores threads). Shared by parallel folds and the sweeps' local runner.
 */
export function blasThreadsEnv(workers: number): Record<string, string> {
  return Deno.env.get("OPENBLAS_NUM_THREADS") ? {} : {
    OPENBLAS_NUM_THREADS: String(Math.max(1, Math.floor(navigator.hardwareConcurrency / workers))),
  };
}

/**
 * Trains `pending` folds in worker processes, `x.parallel` at a time, each running this same
 * configuration restricted to its fold into the shared run folder, with its own checkpoint
 * folder. Lines the workers print come back prefixed with their fold.
 */
async function runFoldsInWorkers(c: RunConfig, x: RunExecution, pending: Fold[]): Promise<void> {
  const n = Math.min(x.parallel!, pending.length);
  const log = x.log ?? ((m: string) => console.error(m));
  const env = blasThreadsEnv(n);
  // Only what serialises: execution hooks (progress callbacks) stay in this process.
  const options = Object.fromEntries(
    Object.entries(c.options ?? {}).filter(([, v]) => typeof v !== "function"),
  );
  log(
    `training ${pending.length} folds in ${n} worker processes${
      env.OPENBLAS_NUM_THREADS ? ` (${env.OPENBLAS_NUM_THREADS} BLAS thread(s) each)` : ""
    }`,
  );
  const queue = [...pending];
  const worker = async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const job = {
        config: {
          ...c,
          folds: [f.name],
          options: { ...options, checkpointDir: join(x.out!, RUN_FILES.checkpoints, f.name) },
        },
        out: x.out,
        cacheDir: x.cacheDir,
        keepCheckpoints: x.keepCheckpoints,
      };
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          new URL("./fold_worker.ts", import.meta.url).pathname,
          JSON.stringify(job),
        ],
        env,
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const relay = async (stream: ReadableStream<Uint8Array>, keep: string[]) => {
        let rest = "";
        for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
          const lines = (rest + chunk).split(/\r?\n|\r/);
          rest = lines.pop()!;
          for (const l of lines) {
            if (!l.trim()) continue;
            keep.push(l);
            if (keep.length > 40) keep.shift();
            // Epoch progress bars stay quiet here; fold results and warnings come through.
            if (!/^\s*\[[█·]+\]/.test(l)) log(`[${f!.name}] ${l}`);
          }
        }
      };
      const tail: string[] = [];
      const [status] = await Promise.all([
        child.status,
        relay(child.stdout, tail),
        relay(child.stderr, tail),
      ]);
      if (!status.success) {
        throw new DataError(
          `fold ${f.name} failed in its worker process (exit ${status.code}):\n${
            tail.slice(-12).join("\n")
          }`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: n }, worker));
}

/**
 * Runs (or resumes) one configuration: loads the data, opens the encoder, builds the method and
 * cross-validates it into `out`.
 *
 * @example
 * ```ts
 * const report = await runExperiment(
 *   { dataset: "synthetic", method: "ridge" },
 *   { out: "runs/ridge-synthetic" },
 * );
 * console.log(report.mean.pcc);
 * ```
 */
export async function runExperiment(c: RunConfig, x: RunExecution = {}): Promise<CvReport> {
  const n = normalizeRunConfig(c);
  // The method first: an unknown method or option fails before any data is read.
  // Checkpoints live in the run folder (deleted by the runner once a fold is finished).
  const checkpointDir = c.options?.checkpointDir ??
    (x.out ? join(x.out, RUN_FILES.checkpoints) : undefined);
  const method = methodByName(c.method, { ...c.options, checkpointDir });
  const dataset = x.data ??
    await loadDataset(c.dataset, {
      dataDir: c.dataDir,
      anndata: c.anndata,
      log: x.warnings ?? new WarningLog(true),
    });
  const extractor = parseEncoder(n.encoder, { embeddingKey: c.embeddingKey });
  try {
    return await crossValidate({
      dataset,
      method,
      extractor,
      split: n.split,
      slices: c.slices ?? datasetSpec(c.dataset)?.cvSlices,
      folds: c.folds,
      geneParams: n.genes,
      geneMode: n.geneMode,
      out: x.out,
      cacheDir: x.cacheDir,
      testSetSelection: c.options?.selection === "test-set",
      keepCheckpoints: x.keepCheckpoints,
      checkpointDir,
      progress: x.log,
      ...((x.parallel ?? 1) > 1 && x.out
        ? { foldRunner: (pending: Fold[]) => runFoldsInWorkers(c, x, pending) }
        : {}),
    });
  } finally {
    await extractor.close();
  }
}
