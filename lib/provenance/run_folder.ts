/**
 * The run folder, written and read here only. A folder holds
 * - `config.json`: the run's identity (configuration, code version, input digests) plus, not
 *   hashed, where the data came from and the software, git commit and dirty flag that wrote it;
 * - per finished test slice `<slice>.metrics.json` and `<slice>.predictions.h5ad` (X =
 *   prediction, layers['measured'] = truth on the same scale, obs = coordinates and labels);
 * - `checkpoints/` while a fold trains.
 * A folder made from other settings, inputs or code is refused, naming what differs.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { DataError } from "../errors.ts";
import { exists, writeFileAtomic } from "../io/files.ts";
import { type AnnData, writeH5ad } from "../io/h5ad.ts";
import type { Dataset } from "../data/slice.ts";
import { identityDifferences } from "./identity.ts";
import { softwareProvenance } from "./manifest.ts";

/** File names inside a run folder. */
export const RUN_FILES = {
  config: "config.json",
  metricsSuffix: ".metrics.json",
  predictionsSuffix: ".predictions.h5ad",
  metrics: (slice: string) => `${slice}.metrics.json`,
  predictions: (slice: string) => `${slice}.predictions.h5ad`,
  checkpoints: "checkpoints",
} as const;

/** A run folder opened for writing under one identity. */
export interface RunFolder {
  dir: string;
  /** The identity's hash. */
  hash: string;
  /** True when every given test slice already has its metrics. */
  finished(tests: string[]): boolean;
  /** The metrics JSON of a finished test slice. */
  readMetrics<T>(test: string): T;
  /** Writes one test slice's predictions, then its metrics (the metrics mark it finished). */
  writeSlice(test: string, predictions: AnnData, metrics: unknown): Promise<void>;
  /**
   * Deletes a finished fold's training state (tens of MB it no longer needs): `dir` (a fold's
   * own checkpoint folder, when folds train in parallel), else all of `checkpoints/`.
   */
  clearCheckpoints(dir?: string): void;
}

/**
 * Opens (creating or resuming) the run folder `dir` for a run whose identity is `identity`.
 * Throws a DataError naming the differing settings when the folder holds another run.
 *
 * @example
 * ```ts
 * const f = openRunFolder("runs/x", { method: "ridge", code: codeVersion() }, dataset);
 * if (!f.finished(["C2"])) await f.writeSlice("C2", predictions, metrics);
 * ```
 */
export function openRunFolder(
  dir: string,
  identity: Record<string, unknown>,
  dataset: Dataset,
): RunFolder {
  const hash = createHash("sha256").update(JSON.stringify(identity)).digest("hex").slice(0, 12);
  Deno.mkdirSync(dir, { recursive: true });
  const cfgPath = join(dir, RUN_FILES.config);
  if (exists(cfgPath)) {
    const prev = JSON.parse(Deno.readTextFileSync(cfgPath));
    if (prev.hash !== hash) {
      const { hash: _h, dataset: _d, provenance: _p, ...before } = prev;
      const diff = identityDifferences(before, identity);
      throw new DataError(
        `output folder holds a different run (config ${prev.hash}, this one ${hash}): ${
          diff.slice(0, 8).join("; ")
        }${diff.length > 8 ? `; … ${diff.length - 8} more` : ""}. Its results were made from ` +
          `other settings, inputs or code and are not reused: choose another --out, or delete the folder`,
        { file: cfgPath },
      );
    }
  } else {
    // Where the data came from and what wrote the folder are recorded, not hashed: the same run
    // may move between machines.
    const data = {
      name: dataset.name,
      source: dataset.provenance.source,
      location: dataset.provenance.location,
    };
    writeFileAtomic(
      cfgPath,
      JSON.stringify(
        { hash, dataset: data, provenance: softwareProvenance(), ...identity },
        null,
        2,
      ),
    );
  }
  const metricsPath = (t: string) => join(dir, RUN_FILES.metrics(t));
  return {
    dir,
    hash,
    finished: (tests) => tests.every((t) => exists(metricsPath(t))),
    readMetrics: (t) => JSON.parse(Deno.readTextFileSync(metricsPath(t))),
    async writeSlice(t, predictions, metrics) {
      await writeH5ad(join(dir, RUN_FILES.predictions(t)), predictions);
      writeFileAtomic(metricsPath(t), JSON.stringify(metrics, null, 2));
    },
    clearCheckpoints(own?: string) {
      const ck = own ?? join(dir, RUN_FILES.checkpoints);
      if (exists(ck)) Deno.removeSync(ck, { recursive: true });
    },
  };
}
