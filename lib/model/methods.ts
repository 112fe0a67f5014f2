/** The methods `spahgc train --method` knows, behind the shared `Method` interface. */
import { DataError } from "../errors.ts";
import type { Method } from "../train/experiment.ts";
import { DEFAULT_LAMBDAS, fitRidge } from "./ridge.ts";
import { spahgcMethod, type SpaHGCOptions } from "./spahgc_method.ts";

/** Ridge on PCA-reduced standardised embeddings, λ chosen by inner leave-one-slice-out. */
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

export const METHODS: Record<string, (o: SpaHGCOptions) => Method> = {
  ridge: () => ridgeMethod(),
  spahgc: (o) => spahgcMethod(o),
};

/** A method by name; `options` configure SpaHGC (ignored by methods without those knobs). */
export function methodByName(name: string, options: SpaHGCOptions = {}): Method {
  const m = METHODS[name];
  if (!m) {
    throw new DataError(`unknown method '${name}' (available: ${Object.keys(METHODS).join(", ")})`);
  }
  return m(options);
}
