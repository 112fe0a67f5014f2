/**
 * The methods `spahgc train --method` knows, all behind the shared `Method` interface (fit on
 * training slices, predict a test slice) and run by the same cross-validation code on the same
 * features and genes.
 */
import { DataError } from "../errors.ts";
import type { Method } from "./method.ts";
import { DEFAULT_LAMBDAS, fitRidge } from "./ridge.ts";
import { spahgcMethod, type SpaHGCOptions } from "./spahgc_method.ts";
import { knnMethod } from "./baselines/knn.ts";
import { mlpMethod } from "./baselines/mlp.ts";
import { bleepMethod, mclstexpMethod } from "./baselines/contrastive.ts";
import { histogeneMethod } from "./baselines/histogene.ts";
import { eggnMethod } from "./baselines/eggn.ts";
import { nh2stMethod } from "./baselines/nh2st.ts";
import type { NeuralOptions } from "./baselines/neural.ts";

/**
 * Ridge — the HEST-benchmark recipe: embeddings standardised, PCA (≤ 256 components) fitted on
 * training spots, ridge regression with λ chosen by leave-one-slice-out inside the training
 * slices.
 */
export function ridgeMethod(opts: { maxComponents?: number; lambdas?: number[] } = {}): Method {
  const params = {
    maxComponents: opts.maxComponents ?? 256,
    lambdas: opts.lambdas ?? DEFAULT_LAMBDAS,
  };
  return {
    name: "ridge",
    params,
    fit(train, dim, G) {
      const { model, innerPcc } = fitRidge(
        train.map((t) => ({ name: t.name, n: t.n, x: t.x, y: t.y })),
        dim,
        G,
        params,
      );
      return {
        predict: (s) => model.predict(s.x, s.n),
        selection: { lambda: model.lambda, innerPcc },
      };
    },
  };
}

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

export const METHODS: Record<string, (o: SpaHGCOptions) => Method> = {
  spahgc: (o) => spahgcMethod(o),
  ridge: () => ridgeMethod(),
  knn: (o) => knnMethod({ k: o.graph?.K }),
  mlp: (o) => mlpMethod(neuralOptions(o)),
  bleep: (o) => bleepMethod(neuralOptions(o)),
  mclstexp: (o) => mclstexpMethod(neuralOptions(o)),
  histogene: (o) => histogeneMethod(neuralOptions(o)),
  eggn: (o) => eggnMethod(o),
  nh2st: (o) => nh2stMethod(neuralOptions(o)),
};

/** A method by name; `options` carry the shared knobs (epochs, seed, backend, Q/K, …). */
export function methodByName(name: string, options: SpaHGCOptions = {}): Method {
  const m = METHODS[name];
  if (!m) {
    throw new DataError(`unknown method '${name}' (available: ${Object.keys(METHODS).join(", ")})`);
  }
  return m(options);
}
