/**
 * The methods `spahgc train --method` knows, all behind the shared `Method` interface (fit on
 * training slices, predict a test slice) and run by the same cross-validation code on the same
 * features and genes.
 */
import { DataError } from "../errors.ts";
import type { Method } from "./method.ts";
import { ridgeMethod } from "./baselines/ridge.ts";
import { spahgcMethod, type SpaHGCOptions } from "./spahgc_method.ts";
import { knnMethod } from "./baselines/knn.ts";
import { mlpMethod } from "./baselines/mlp.ts";
import { bleepMethod, mclstexpMethod } from "./baselines/contrastive.ts";
import { histogeneMethod } from "./baselines/histogene.ts";
import { eggnMethod } from "./baselines/eggn.ts";
import { nh2stMethod } from "./baselines/nh2st.ts";
import type { NeuralOptions } from "./baselines/neural.ts";

/** The knobs of the neural baselines, taken from the shared command-line options. */
function neuralOptions(o: SpaHGCOptions): NeuralOptions {
  return {
    epochs: o.epochs,
    lr: o.lr,
    weightDecay: o.weightDecay,
    selection: o.selection,
    seed: o.config?.seed,
    backend: o.backend,
    progress: o.progress,
  };
}

/** A method as the tools see it: its names, what it is, and how to build it from the shared knobs. */
export interface MethodSpec {
  /** The name on the command line and in run folders. */
  name: string;
  /** Its row in the paper's Table 1, or null when the paper has none. */
  paperName: string | null;
  /** One line for `--help` and the docs. */
  summary: string;
  /** Training epochs when `--epochs` is not given (trained methods only). */
  defaultEpochs?: number;
  make(o: SpaHGCOptions): Method;
}

/**
 * The registry. A new method is a module of its own (a `Method` factory) plus one entry here;
 * the CLI's help, the notebooks' method lists and the paper-name tables are derived from it.
 */
export const METHOD_SPECS: MethodSpec[] = [
  {
    name: "spahgc",
    paperName: "SpaHGC",
    summary: "the heterogeneous graph of this paper (CNDA, CNAP, masked contrastive training)",
    defaultEpochs: 200,
    make: (o) => spahgcMethod(o),
  },
  {
    name: "ridge",
    paperName: null,
    summary: "standardise → PCA (≤ 256) → ridge, λ by leave-one-slice-out (HEST's probe)",
    make: () => ridgeMethod(),
  },
  {
    name: "knn",
    paperName: null,
    summary: "similarity-weighted mean expression of the K most image-similar training spots",
    make: (o) => knnMethod({ k: o.graph?.K }),
  },
  {
    name: "mlp",
    paperName: "STNet",
    summary: "STNet-style regression head on the embeddings",
    defaultEpochs: 100,
    make: (o) => mlpMethod(neuralOptions(o)),
  },
  {
    name: "bleep",
    paperName: "BLEEP",
    summary: "contrastive image–expression space, expression retrieved from the training spots",
    defaultEpochs: 100,
    make: (o) => bleepMethod(neuralOptions(o)),
  },
  {
    name: "mclstexp",
    paperName: "mclSTExp",
    summary: "BLEEP plus a transformer over a slice's spots with a position encoding",
    defaultEpochs: 100,
    make: (o) => mclstexpMethod(neuralOptions(o)),
  },
  {
    name: "histogene",
    paperName: "HisToGene",
    summary: "HisToGene-style transformer over a slice's spots with 2-D position embeddings",
    defaultEpochs: 100,
    make: (o) => histogeneMethod(neuralOptions(o)),
  },
  {
    name: "eggn",
    paperName: "EGGN",
    summary: "exemplar graph: SpaHGC's network without CNDA, CNAP, RS edges and masking",
    defaultEpochs: 200,
    make: (o) => eggnMethod(o),
  },
  {
    name: "nh2st",
    paperName: null,
    summary: "NH2ST: target and neighbour branches, cross-attention, dual-scale contrastive terms",
    defaultEpochs: 100,
    make: (o) => nh2stMethod(neuralOptions(o)),
  },
];

/** Method names in registry order. */
export const METHOD_NAMES: string[] = METHOD_SPECS.map((m) => m.name);

/** Each method's factory by name (kept for scripts written against it). */
export const METHODS: Record<string, (o: SpaHGCOptions) => Method> = Object.fromEntries(
  METHOD_SPECS.map((m) => [m.name, m.make]),
);

/** A method by name; `options` carry the shared knobs (epochs, seed, backend, Q/K, …). */
export function methodByName(name: string, options: SpaHGCOptions = {}): Method {
  const m = METHOD_SPECS.find((x) => x.name === name);
  if (!m) {
    throw new DataError(`unknown method '${name}' (available: ${METHOD_NAMES.join(", ")})`);
  }
  return m.make({ ...options, epochs: options.epochs ?? m.defaultEpochs });
}
