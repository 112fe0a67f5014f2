/**
 * Options several commands share, declared once with their types: gene selection (`hvg`,
 * `graph`, `train`) and the method knobs of `train`, turned into the library's option objects.
 */
import { defaultGeneParams, geneParamsFor } from "../datasets/registry.ts";
import {
  DEFAULT_GENE_PARAMS,
  type GeneRecipe,
  type GeneSelectionParams,
  type HvgFlavor,
} from "../preprocess/hvg.ts";
import type { SpaHGCOptions } from "../model/spahgc_method.ts";
import type { Ablation } from "../model/spahgc.ts";
import { BACKEND_NAMES } from "../model/backend.ts";
import { SELECTIONS } from "../model/selection.ts";
import type { AnnDataReadOptions } from "../io/anndata_slices.ts";
import { readGeneList } from "../preprocess/gene_list.ts";
import { type Options, type OptionSchema, UsageError } from "./options.ts";

const RECIPES: readonly GeneRecipe[] = ["intersection", "batch-ranked", "histogene"];

/** Which encoder embeds the patches, and, for `.h5ad` embeddings, under which `obsm` key. */
export const ENCODER_OPTIONS = {
  encoder: {
    type: "string",
    help:
      "builtin (default) | onnx:MODEL.onnx | file:DIR_OR_FILE (.npy + .ids.txt, .safetensors, .csv/.tsv, .parquet, .h5ad)",
  },
  "embedding-key": {
    type: "string",
    help: "with --encoder file:…h5ad: the obsm key of the embeddings (default X_embedding)",
  },
} satisfies OptionSchema;

/** `--genes` (train): one's own gene list instead of a recipe. */
export const GENE_LIST_OPTION = {
  genes: {
    type: "string",
    help:
      "the genes to predict instead of a recipe: A,B,… or a file (one per line, or the JSON of `hvg --json`)",
  },
} satisfies OptionSchema;
const FLAVORS: readonly HvgFlavor[] = ["seurat", "seurat_v3"];

export const GENE_OPTIONS = {
  recipe: {
    type: "string",
    choices: RECIPES,
    help:
      "intersection | batch-ranked | histogene (default: the dataset's own, `spahgc data list`; intersection for a path)",
  },
  flavor: { type: "string", choices: FLAVORS, help: "seurat (default) | seurat_v3" },
  "n-top": {
    type: "integer",
    min: 1,
    help: "HVGs per slice (intersection) or in total (batch-ranked); default 1000",
  },
  "target-sum": {
    type: "string",
    help: "library size for normalisation: a number (default 1e6) or 'median'",
  },
} satisfies OptionSchema;

/** How a dataset given as an `.h5ad` path is read (ignored for registered datasets). */
export const ANNDATA_OPTIONS = {
  "slice-key": {
    type: "string",
    help:
      "h5ad: obs column naming each spot's slice in a concatenated file (anndata.concat's label)",
  },
  "patient-key": {
    type: "string",
    help: "h5ad: obs column naming each spot's patient (default 'patient', else uns['patient'])",
  },
  "counts-layer": {
    type: "string",
    help:
      "h5ad: where the raw counts are: X, raw or a layer name (default: X if it holds counts, else layers['counts'], else raw)",
  },
  "library-id": {
    type: "string",
    help: "h5ad: the uns['spatial'] library of a single-slice file that holds several",
  },
  normalised: {
    type: "boolean",
    help:
      "h5ad: X (or --counts-layer) is log-normalised already (normalize_total + log1p): used as it is, no normalisation of ours",
  },
} satisfies OptionSchema;

/** The AnnData reading options given, or undefined when none was. */
export function annDataOptions(o: Options): AnnDataReadOptions | undefined {
  const r: AnnDataReadOptions = {
    ...(o.str("slice-key") ? { sliceKey: o.str("slice-key") } : {}),
    ...(o.str("patient-key") ? { patientKey: o.str("patient-key") } : {}),
    ...(o.str("counts-layer") ? { countsLayer: o.str("counts-layer") } : {}),
    ...(o.str("library-id") ? { libraryId: o.str("library-id") } : {}),
    ...(o.flag("normalised") ? { normalised: true } : {}),
  };
  return Object.keys(r).length ? r : undefined;
}

/** The gene-selection parameters the options ask for on `dataset`. */
export function geneParams(dataset: string, o: Options): GeneSelectionParams {
  const list = o.has("genes") ? o.str("genes") : undefined;
  if (list !== undefined) {
    if (o.has("recipe")) throw new UsageError("--genes gives the genes: --recipe does not apply");
    return { ...DEFAULT_GENE_PARAMS, recipe: "list", genes: readGeneList(list) };
  }
  const recipe = o.choice(
    "recipe",
    RECIPES,
    defaultGeneParams(dataset).recipe as (typeof RECIPES)[number],
  );
  const base = geneParamsFor(dataset, recipe);
  const flavor = o.choice("flavor", FLAVORS, base.flavor);
  const nTop = o.int("n-top") ?? base.nTop;
  const ts = o.str("target-sum");
  const targetSum = ts === undefined ? base.targetSum : ts === "median" ? "median" : Number(ts);
  if (targetSum !== "median" && !(targetSum > 0)) {
    throw new UsageError(`--target-sum ${ts}: expected a positive number or 'median'`);
  }
  return { ...base, recipe, flavor, nTop, targetSum };
}

const ABLATIONS = {
  "no-ts": "noTS",
  "no-cs": "noCS",
  "no-rs": "noRS",
  "no-cnda": "noCNDA",
  "no-cnap": "noCNAP",
  "shuffle-ref": "shuffleReferenceExpression",
} as const;
const MASKINGS = ["complementary", "random", "none"] as const;
const TARGET_ENCODERS = ["paper", "released", "ema"] as const;
const INITS = ["released", "glorot"] as const;
const PAPER_OR_RELEASED = ["paper", "released"] as const;
const TS = ["knn", "radius"] as const;
const RS = ["cosine", "euclidean"] as const;
const FEATURE_SCALES = ["raw", "fold"] as const;
const TARGET_SCALES = ["fold", "section"] as const;
const ORDERS = ["shuffled", "fixed"] as const;

/** The method knobs of `train` (SpaHGC's and the shared ones of the trained baselines). */
export const METHOD_OPTIONS = {
  Q: {
    type: "integer",
    min: 1,
    max: 50,
    help: "spahgc: spatial neighbours per target (TS edges), default 5",
  },
  K: {
    type: "integer",
    min: 1,
    max: 50,
    help:
      "spahgc/eggn: retrieved references per target (CS edges), default 7; knn: K (default: chosen on training slices)",
  },
  alpha: {
    type: "number",
    min: 0,
    max: 1,
    help: "spahgc: target feature mask ratio (preset released 0.1, paper 0.8)",
  },
  beta: {
    type: "number",
    min: 0,
    max: 1,
    help: "spahgc: reference feature mask ratio, default 0.9",
  },
  epochs: {
    type: "integer",
    min: 1,
    max: 100000,
    help: "trained methods: training epochs (default: the method's, `spahgc methods`)",
  },
  backend: {
    type: "string",
    choices: BACKEND_NAMES,
    help:
      "trained methods: auto (default: wasm-blas, else wasm) | wasm-blas | wasm | cpu | webgpu | tensorflow",
  },
  seed: { type: "integer", min: 0, max: 2 ** 31, help: "trained methods: seed, default 0" },
  "checkpoint-every": {
    type: "number",
    min: 0,
    max: 86400,
    help:
      "spahgc: seconds of training between checkpoints (default 60; 0 = every epoch); a fold's last epoch is always saved",
  },
  selection: {
    type: "string",
    choices: SELECTIONS,
    help:
      "trained methods: validation (best epoch on a training slice, default) | fixed | test-set (the released code's test-slice selection; labelled, for leakage studies only)",
  },
  ablation: {
    type: "string",
    help: `spahgc: comma list of ${Object.keys(ABLATIONS).join(", ")}`,
  },
  preset: {
    type: "string",
    choices: PAPER_OR_RELEASED,
    help:
      "spahgc: released (default, chosen on validation slices: the authors' released code, leak-free) | paper (the paper's text); the options below override it",
  },
  architecture: {
    type: "string",
    choices: PAPER_OR_RELEASED,
    help: "spahgc: network details, released | paper",
  },
  ts: {
    type: "string",
    choices: TS,
    help: "spahgc: TS edges, knn (Q nearest) | radius (√10 on the array, ≤ Q)",
  },
  rs: {
    type: "string",
    choices: RS,
    help: "spahgc: RS edges, cosine (top-K) | euclidean (k = 3)",
  },
  "feature-scale": {
    type: "string",
    choices: FEATURE_SCALES,
    help:
      "spahgc: image features as given (raw) | standardised with the fold's training slices (fold)",
  },
  "target-scale": {
    type: "string",
    choices: TARGET_SCALES,
    help:
      "spahgc: targets standardised over training slices (fold) | min–max within each slice (section)",
  },
  "graph-order": {
    type: "string",
    choices: ORDERS,
    help: "spahgc: training graphs shuffled each epoch | fixed",
  },
  masking: {
    type: "string",
    choices: MASKINGS,
    help: "spahgc: complementary (default) | random | none",
  },
  "target-encoder": {
    type: "string",
    choices: TARGET_ENCODERS,
    help: "spahgc: released (a frozen copy, preset released) | paper (live weights) | ema",
  },
  loss: {
    type: "string",
    choices: PAPER_OR_RELEASED,
    help: "spahgc: released (weighted, preset released) | paper (unit weights)",
  },
  init: {
    type: "string",
    choices: INITS,
    help:
      "spahgc: starting values, released (default: the authors' modules' initialisation) | glorot",
  },
} satisfies OptionSchema;

/** The method options the command line asks for (only what was given; the rest stays default). */
export function spahgcOptions(o: Options): SpaHGCOptions {
  const ablation: Ablation = {};
  for (const a of o.list("ablation") ?? []) {
    const key = ABLATIONS[a as keyof typeof ABLATIONS];
    if (!key) {
      throw new UsageError(`--ablation ${a}: expected ${Object.keys(ABLATIONS).join(", ")}`);
    }
    ablation[key] = true;
  }
  const config: NonNullable<SpaHGCOptions["config"]> = { ablation };
  const alpha = o.num("alpha"), beta = o.num("beta"), seed = o.int("seed");
  if (alpha !== undefined) config.alpha = alpha;
  if (beta !== undefined) config.beta = beta;
  if (seed !== undefined) config.seed = seed;
  const masking = o.choice("masking", MASKINGS);
  if (masking) config.masking = masking;
  const te = o.choice("target-encoder", TARGET_ENCODERS);
  if (te) config.targetEncoder = te;
  const init = o.choice("init", INITS);
  if (init) config.init = init;
  const loss = o.choice("loss", PAPER_OR_RELEASED);
  if (loss) config.loss = loss;
  const architecture = o.choice("architecture", PAPER_OR_RELEASED);
  if (architecture) config.architecture = architecture;
  const Q = o.int("Q"), K = o.int("K");
  const ts = o.choice("ts", TS), rs = o.choice("rs", RS);
  const features = o.choice("feature-scale", FEATURE_SCALES);
  const targets = o.choice("target-scale", TARGET_SCALES);
  const order = o.choice("graph-order", ORDERS);
  return {
    preset: o.choice("preset", PAPER_OR_RELEASED),
    config,
    graph: {
      ...(Q !== undefined ? { Q } : {}),
      ...(K !== undefined ? { K } : {}),
      ...(ts ? { ts } : {}),
      ...(rs ? { rs } : {}),
    },
    pipeline: {
      ...(features ? { features } : {}),
      ...(targets ? { targets } : {}),
      ...(order ? { order } : {}),
    },
    epochs: o.int("epochs"),
    checkpointEverySeconds: o.num("checkpoint-every"),
    backend: o.choice("backend", BACKEND_NAMES),
    selection: o.choice("selection", SELECTIONS),
  };
}
