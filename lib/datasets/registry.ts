/**
 * The dataset registry: which datasets the project knows, where their files are looked for,
 * and how a real user obtains them.
 *
 * Data directory resolution (first that holds the dataset wins):
 *   1. `--data-dir DIR` / the `dataDir` option
 *   2. `$SPAHGC_DATA_DIR`
 *   3. `data/` in the project (where `spahgc data fetch` puts downloads; git-ignored)
 *   4. `../shared/data` beside the project (the shared read-only copy on team machines)
 */
import { join, resolve } from "node:path";
import { PROJECT_ROOT } from "../paths.ts";
import { DataError, WarningLog } from "../errors.ts";
import { exists } from "../io/files.ts";
import { readVisium } from "../io/visium.ts";
import { readH5ad } from "../io/h5ad.ts";
import { type AnnDataReadOptions, annDataSlices } from "../io/anndata_slices.ts";
import type { SyntheticOptions } from "../data/synthetic.ts";
import type { Dataset } from "../data/slice.ts";
import {
  DEFAULT_GENE_PARAMS,
  type GeneRecipe,
  type GeneSelectionParams,
} from "../preprocess/hvg.ts";
import { isHestRoot, parseHestQuery, readHest } from "../io/hest.ts";
import { hestBenchGenes, isHestBenchTask, readHestBench } from "../io/hest_bench.ts";
import type { DatasetSpec } from "./spec.ts";
import { SYNTHETIC } from "./synthetic.ts";
import { HER2ST } from "./her2st.ts";
import { VISIUM_TINY } from "./visium_tiny.ts";
import { HEST, HEST_LYMPH_NODE, HEST_PANCREAS_VISIUM, HEST_PANCREAS_XENIUM } from "./hest.ts";

// Re-exported: scripts and notebooks written against the registry keep finding it here.
export { PROJECT_ROOT };

/** A registered dataset (the spec; `DatasetInfo` is its older name). */
export type DatasetInfo = DatasetSpec;

/** The registry: one line per dataset, each spec in its own module. */
export const DATASETS: DatasetSpec[] = [
  SYNTHETIC,
  HER2ST,
  VISIUM_TINY,
  HEST,
  HEST_LYMPH_NODE,
  HEST_PANCREAS_XENIUM,
  HEST_PANCREAS_VISIUM,
];

/** The spec of a registered dataset, or undefined (a path, an unknown name). */
export function datasetSpec(name: string): DatasetSpec | undefined {
  return DATASETS.find((d) => d.name === name);
}

/**
 * A dataset path, its HEST selection query (`PATH?organ=Lymph node&…`) and which HEST layout
 * the folder has, if any (a missing path or a file has none).
 */
function pathLayout(
  name: string,
): { path: string; query?: string; layout?: "hest" | "hest-bench" } {
  const q = name.indexOf("?");
  const path = resolve(q < 0 ? name : name.slice(0, q));
  const query = q < 0 ? undefined : name.slice(q + 1);
  const layout = isHestBenchTask(path) ? "hest-bench" : isHestRoot(path) ? "hest" : undefined;
  return { path, query, layout };
}

/** The gene recipe a dataset uses when none is asked for (`intersection` for paths). */
export function defaultGeneRecipe(dataset: string): GeneRecipe {
  return defaultGeneParams(dataset).recipe;
}

/**
 * The gene selection a dataset uses when none is asked for: its spec's; for a path, a
 * HEST-Benchmark task's own gene list, the released code's seurat_v3 top-1000 intersection for a
 * HEST-1k root, else the intersection recipe.
 */
export function defaultGeneParams(dataset: string): GeneSelectionParams {
  const spec = datasetSpec(dataset);
  if (spec) return { ...DEFAULT_GENE_PARAMS, recipe: spec.genes, ...spec.geneParams };
  const { path, layout } = pathLayout(dataset);
  if (layout === "hest-bench") {
    return { ...DEFAULT_GENE_PARAMS, recipe: "list", genes: hestBenchGenes(path) };
  }
  if (layout === "hest") return { ...DEFAULT_GENE_PARAMS, ...HEST.geneParams };
  return { ...DEFAULT_GENE_PARAMS };
}

/**
 * The gene selection to start from when `recipe` is asked for on `dataset`: the dataset's own
 * (its HVG settings, its gene list) when the recipe is its own or none is asked, else the
 * project's defaults with that recipe.
 */
export function geneParamsFor(dataset: string, recipe?: GeneRecipe): GeneSelectionParams {
  const own = defaultGeneParams(dataset);
  return recipe === undefined || recipe === own.recipe ? own : { ...DEFAULT_GENE_PARAMS, recipe };
}

/** The split a dataset is cross-validated by when none is asked for: its own folds if it has any. */
export function defaultSplit(dataset: string): "slice" | "dataset" {
  return !datasetSpec(dataset) && pathLayout(dataset).layout === "hest-bench" ? "dataset" : "slice";
}

/** Candidate data directories in resolution order. */
export function dataDirCandidates(explicit?: string): string[] {
  const c: string[] = [];
  if (explicit) c.push(resolve(explicit));
  const env = Deno.env.get("SPAHGC_DATA_DIR");
  if (env) c.push(resolve(env));
  c.push(join(PROJECT_ROOT, "data"), resolve(PROJECT_ROOT, "..", "shared", "data"));
  return c;
}

/** The directory holding `folder`, following the resolution order; a DataError saying where to put it otherwise. */
export function resolveDatasetDir(info: DatasetInfo, explicit?: string): string {
  const candidates = dataDirCandidates(explicit);
  if (explicit) {
    // An explicit directory is either the data directory or the dataset folder itself.
    const direct = resolve(explicit);
    if (exists(join(direct, info.folder!))) return join(direct, info.folder!);
    if (exists(direct) && direct.endsWith(info.folder!)) return direct;
    throw new DataError(
      `dataset '${info.name}' not found in ${direct}; expected ${
        join(direct, info.folder!)
      }. Obtain it: ${info.source}`,
      {
        file: direct,
      },
    );
  }
  for (const d of candidates) if (exists(join(d, info.folder!))) return join(d, info.folder!);
  throw new DataError(
    `dataset '${info.name}' not found. Looked in: ${
      candidates.map((d) => join(d, info.folder!)).join(", ")
    }. Obtain it: ${info.source}; or set SPAHGC_DATA_DIR`,
  );
}

export interface LoadOptions {
  dataDir?: string;
  /** Subset of slices (by name). */
  slices?: string[];
  synthetic?: SyntheticOptions;
  /** How `.h5ad` paths are read: slice and patient columns, where the counts are. */
  anndata?: AnnDataReadOptions;
  log?: WarningLog;
}

/**
 * Loads a dataset by registry name (`synthetic`, `her2st`, `visium_tiny`, `hest`, …), or from a
 * path: a HEST-1k root (optionally with a selection, `ROOT?organ=Lymph node&disease_state!=Healthy`),
 * a HEST-Benchmark task folder, a folder of `.h5ad` files (one slice each), a single `.h5ad`,
 * or a Space Ranger `outs/` folder.
 */
export async function loadDataset(name: string, opts: LoadOptions = {}): Promise<Dataset> {
  const log = opts.log ?? new WarningLog();
  const pick = (d: Dataset): Dataset => {
    if (!opts.slices) return d;
    const missing = opts.slices.filter((s) => !d.slices.some((x) => x.name === s));
    if (missing.length) {
      throw new DataError(
        `slice(s) ${missing.join(", ")} not in ${d.name} (has: ${
          d.slices.map((s) => s.name).join(", ")
        })`,
      );
    }
    return { ...d, slices: opts.slices.map((s) => d.slices.find((x) => x.name === s)!) };
  };
  const spec = datasetSpec(name);
  if (spec) {
    const dir = spec.folder ? resolveDatasetDir(spec, opts.dataDir) : undefined;
    return pick(await spec.load(dir, { slices: opts.slices, log, synthetic: opts.synthetic }));
  }
  // A path, perhaps with a HEST selection query.
  const { path, query, layout } = pathLayout(name);
  if (layout === "hest-bench") {
    if (query) {
      throw new DataError(
        `a HEST-Benchmark task is used whole (its splits are the folds): drop '?${query}'`,
        { file: path },
      );
    }
    return pick(await readHestBench(path, { log, only: opts.slices }));
  }
  if (layout === "hest") {
    return pick(
      await readHest(path, { ...parseHestQuery(query ?? ""), log, only: opts.slices }),
    );
  }
  if (query) {
    throw new DataError(
      `'?${query}' selects HEST-1k samples, but ${path} is not a HEST-1k folder (st/ and metadata/)`,
      { file: path },
    );
  }
  if (!exists(path)) {
    throw new DataError(
      `unknown dataset '${name}': not a registry name (${
        DATASETS.map((d) => d.name).join(", ")
      }) nor an existing path`,
    );
  }
  const ao: AnnDataReadOptions = { ...opts.anndata, log };
  if (path.endsWith(".h5ad")) {
    const slices = annDataSlices(await readH5ad(path), path, ao);
    return pick(checkGenes({
      name: slices.length === 1 ? slices[0].name : path.replace(/^.*\//, "").replace(/\.h5ad$/, ""),
      slices,
      provenance: {
        source: "AnnData .h5ad",
        location: path,
        reader: "readH5ad",
        warnings: log.warnings,
      },
    }, log));
  }
  if (exists(join(path, "filtered_feature_bc_matrix.h5"))) {
    const s = await readVisium(path, { log });
    return {
      name: s.name,
      slices: [s],
      provenance: {
        source: "10x Visium outs/",
        location: path,
        reader: "readVisium",
        warnings: log.warnings,
      },
    };
  }
  const files = [...Deno.readDirSync(path)].filter((e) => e.isFile && e.name.endsWith(".h5ad")).map(
    (e) => e.name,
  ).sort();
  if (files.length === 0) {
    throw new DataError(
      "folder holds no .h5ad files and no filtered_feature_bc_matrix.h5 (expected one of the two)",
      { file: path },
    );
  }
  const slices = [];
  for (const f of files) {
    slices.push(...annDataSlices(await readH5ad(join(path, f)), join(path, f), ao));
  }
  const names = new Map<string, number>();
  for (const s of slices) names.set(s.name, (names.get(s.name) ?? 0) + 1);
  const twice = [...names].filter(([, k]) => k > 1).map(([n]) => n);
  if (twice.length) {
    throw new DataError(
      `slice name(s) ${twice.join(", ")} occur in more than one file: slices are matched by name`,
      { file: path },
    );
  }
  return pick(checkGenes({
    name: path.replace(/^.*\//, ""),
    slices,
    provenance: {
      source: "folder of AnnData .h5ad files",
      location: path,
      reader: "readH5ad",
      warnings: log.warnings,
    },
  }, log));
}

/**
 * Says, per slice, how many of the cohort's genes it lacks: gene selection uses the genes shared
 * by the slices it looks at (the `intersection` recipe the paper's), so a slice missing genes
 * shrinks the gene set for every slice.
 */
function checkGenes(d: Dataset, log: WarningLog): Dataset {
  if (d.slices.length < 2) return d;
  const all = new Set(d.slices.flatMap((s) => s.genes));
  const shared = d.slices.reduce(
    (acc, s) => new Set(s.genes.filter((g) => acc.has(g))),
    new Set(d.slices[0].genes),
  );
  for (const s of d.slices) {
    const have = new Set(s.genes);
    const missing = [...all].filter((g) => !have.has(g));
    if (missing.length) {
      log.warn(
        `slice ${s.name} lacks ${missing.length} of the ${all.size} genes the other slices have (e.g. ${
          missing.slice(0, 3).join(", ")
        }); gene selection keeps only the ${shared.size} genes every slice has`,
        { file: d.provenance.location },
      );
    }
  }
  return d;
}

/**
 * Obtains a dataset from its public source into `data/` (or `dataDir`). Returns what was done;
 * throws a DataError that says exactly where to put the files when the network is unavailable.
 */
export async function fetchDataset(
  name: string,
  dataDir = join(PROJECT_ROOT, "data"),
): Promise<string> {
  const info = datasetSpec(name);
  if (!info) {
    throw new DataError(
      `unknown dataset '${name}' (known: ${DATASETS.map((d) => d.name).join(", ")})`,
    );
  }
  if (!info.folder) return `${name} is generated on demand; nothing to fetch`;
  const target = join(dataDir, info.folder);
  if ((info.markers ?? []).some((m) => exists(join(target, m)))) {
    return `${name} already present at ${target}`;
  }
  if (!info.fetch) {
    throw new DataError(
      `${name} cannot be fetched automatically. Obtain it: ${info.source}; put it at ${target}`,
    );
  }
  return await info.fetch(target);
}
