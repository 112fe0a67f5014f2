/**
 * Sweep specifications: a JSON file naming a dataset, methods, a parameter grid, seeds and folds,
 * expanded into independent runs — one (method, grid point, seed, fold) each — with stable ids
 * (a hash of the resolved configuration), so any runner can tell which runs are already done.
 */
import { createHash } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { DataError, WarningLog } from "../errors.ts";
import { defaultSplit, loadDataset } from "../datasets/registry.ts";
import { makeFolds, type Split } from "../train/cv.ts";
import type { SpaHGCOptions } from "../model/spahgc_method.ts";
import type { BackendName } from "../model/backend.ts";
import { DEFAULT_CONFIG } from "../model/spahgc.ts";
import { PAPER_GRAPH } from "../graph/hetero.ts";
import type { GeneRecipe } from "../preprocess/hvg.ts";

/** The file format (see notebooks/sweeps/*.json). */
export interface SweepSpec {
  name: string;
  dataset: string;
  dataDir?: string;
  split?: Split;
  /** Slices taking part (default: all with an image). */
  slices?: string[];
  /** Only these folds (default: all folds of the split). */
  folds?: string[];
  methods: string[];
  /**
   * Values to sweep, one axis per key: Q, K (graph), alpha, beta, masking (model), epochs, and
   * `ablation` (comma lists such as "noTS"). The grid is the cross product of the axes.
   */
  grid?: Record<string, (number | string)[]>;
  seeds?: number[];
  epochs?: number;
  backend?: BackendName;
  encoder?: string;
  /** Gene recipe (default: histogene for her2st, intersection otherwise). */
  genes?: GeneRecipe;
  /** Where runs and results go (default: next to the spec, `<spec name>.sweep/`). */
  out?: string;
}

/** One independent run of a sweep. */
export interface SweepRun {
  id: string;
  method: string;
  /** The grid point, e.g. {Q: 3, alpha: 0.5}. */
  point: Record<string, number | string>;
  seed: number;
  fold: string;
  options: SpaHGCOptions;
}

export interface ExpandedSweep {
  spec: SweepSpec;
  specPath: string;
  dir: string;
  runs: SweepRun[];
}

const AXES = new Set(["Q", "K", "alpha", "beta", "masking", "epochs", "ablation", "selection"]);

export function readSpec(path: string): SweepSpec {
  let spec: SweepSpec;
  try {
    spec = JSON.parse(Deno.readTextFileSync(path));
  } catch (e) {
    throw new DataError(`not a readable JSON sweep spec: ${(e as Error).message}`, { file: path });
  }
  const need = (k: keyof SweepSpec, ok: boolean, what: string) => {
    if (!ok) throw new DataError(`'${String(k)}' ${what}`, { file: path });
  };
  need(
    "name",
    typeof spec.name === "string" && /^[\w.-]+$/.test(spec.name),
    "must be a name (letters, digits, . _ -)",
  );
  need("dataset", typeof spec.dataset === "string", "must name a dataset");
  need(
    "genes",
    spec.genes === undefined || ["intersection", "batch-ranked", "histogene"].includes(spec.genes),
    "must be a gene recipe: intersection, batch-ranked or histogene",
  );
  need(
    "methods",
    Array.isArray(spec.methods) && spec.methods.length > 0,
    "must list at least one method",
  );
  for (const k of Object.keys(spec.grid ?? {})) {
    if (!AXES.has(k)) {
      throw new DataError(`grid axis '${k}' is unknown (known: ${[...AXES].join(", ")})`, {
        file: path,
      });
    }
    if (!Array.isArray(spec.grid![k]) || spec.grid![k].length === 0) {
      throw new DataError(`grid axis '${k}' must be a non-empty list`, { file: path });
    }
  }
  return spec;
}

function optionsFor(
  spec: SweepSpec,
  point: Record<string, number | string>,
  seed: number,
): SpaHGCOptions {
  // Defaults written out, so the default point of a Q sweep and of a K sweep is the same run.
  const config: NonNullable<SpaHGCOptions["config"]> = {
    seed,
    alpha: DEFAULT_CONFIG.alpha,
    beta: DEFAULT_CONFIG.beta,
  };
  const graph: NonNullable<SpaHGCOptions["graph"]> = { Q: PAPER_GRAPH.Q, K: PAPER_GRAPH.K };
  let epochs = spec.epochs;
  let selection: SpaHGCOptions["selection"];
  for (const [k, v] of Object.entries(point)) {
    if (k === "Q" || k === "K") graph[k] = Number(v);
    else if (k === "alpha" || k === "beta") config[k] = Number(v);
    else if (k === "masking") config.masking = v as "complementary" | "random" | "none";
    else if (k === "epochs") epochs = Number(v);
    else if (k === "selection") selection = v as "validation" | "fixed";
    else if (k === "ablation") {
      config.ablation = Object.fromEntries(
        String(v).split(",").filter((a) => a).map((a) => [a, true]),
      );
    }
  }
  return {
    config,
    graph,
    ...(epochs !== undefined ? { epochs } : {}),
    ...(selection ? { selection } : {}),
    ...(spec.backend ? { backend: spec.backend } : {}),
  };
}

/** Cross product of the grid's axes ([{}] for no grid). */
export function gridPoints(
  grid: Record<string, (number | string)[]> = {},
): Record<string, number | string>[] {
  let points: Record<string, number | string>[] = [{}];
  for (const [k, values] of Object.entries(grid)) {
    points = points.flatMap((p) => values.map((v) => ({ ...p, [k]: v })));
  }
  return points;
}

/** Expands a spec into runs; folds come from the dataset (loaded once) unless listed. */
export async function expandSpec(specPath: string): Promise<ExpandedSweep> {
  const spec = readSpec(specPath);
  let folds = spec.folds;
  if (!folds) {
    const ds = await loadDataset(spec.dataset, {
      dataDir: spec.dataDir,
      log: new WarningLog(false),
    });
    const slices = ds.slices.filter((s) =>
      spec.slices ? spec.slices.includes(s.name) : s.image !== undefined
    );
    folds = makeFolds(slices, spec.split ?? defaultSplit(spec.dataset), ds.folds).map((f) =>
      f.name
    );
  }
  const runs: SweepRun[] = [];
  for (const method of spec.methods) {
    for (const point of gridPoints(spec.grid)) {
      for (const seed of spec.seeds ?? [0]) {
        for (const fold of folds) {
          const options = optionsFor(spec, point, seed);
          // Everything that determines the numbers goes into the id; the sweep's name does not,
          // so two sweeps sharing a run share its result.
          const key = JSON.stringify({
            dataset: spec.dataset,
            split: spec.split ?? defaultSplit(spec.dataset),
            slices: spec.slices ?? null,
            genes: spec.genes ?? null,
            encoder: spec.encoder ?? "builtin",
            method,
            options,
            fold,
          });
          const id = `${method}-${createHash("sha256").update(key).digest("hex").slice(0, 12)}`;
          runs.push({ id, method, point, seed, fold, options });
        }
      }
    }
  }
  const dir = spec.out
    ? resolve(dirname(specPath), spec.out)
    : join(dirname(resolve(specPath)), `${spec.name}.sweep`);
  return { spec, specPath: resolve(specPath), dir, runs };
}
