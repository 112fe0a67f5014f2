/**
 * Approximate cosine top-K retrieval through usearch (HNSW; prebuilt binaries in the npm
 * package), for reference banks too large for exact search (≳ 100k spots). Single-threaded
 * construction and search so results are reproducible run to run.
 */
import { createRequire } from "node:module";
import type { TopK } from "./knn.ts";

type Usearch = typeof import("usearch").default;
let loaded: Usearch | undefined;
/**
 * usearch is a native addon, loaded on first use only: exact retrieval (every bank up to ~100k
 * spots) never needs it, and a bundled copy of the library (the GPU pack) runs without it.
 */
function usearchModule(): Usearch {
  return (loaded ??= createRequire(import.meta.url)("usearch") as Usearch);
}

export function approximateCosineTopK(
  queries: Float32Array,
  bank: Float32Array,
  dim: number,
  k: number,
): TopK {
  const nb = bank.length / dim, nq = queries.length / dim;
  if (nb < k) throw new RangeError(`top-${k} retrieval from a bank of ${nb} rows`);
  const usearch = usearchModule();
  const index = new usearch.Index({
    dimensions: dim,
    metric: usearch.MetricKind.Cos,
    quantization: usearch.ScalarKind.F32,
    multi: false,
    connectivity: 16,
    expansion_add: 128,
    expansion_search: Math.max(64, 4 * k),
  });
  index.add(BigUint64Array.from({ length: nb }, (_, i) => BigInt(i)), bank, 1);
  const res = index.search(queries, k, 1) as unknown as {
    keys: BigUint64Array;
    distances: Float32Array;
    counts: BigUint64Array;
  };
  const out: TopK = {
    k,
    index: new Int32Array(nq * k).fill(-1),
    score: new Float32Array(nq * k).fill(-Infinity),
  };
  for (let q = 0; q < nq; q++) {
    const found = Number(res.counts[q]);
    for (let j = 0; j < found; j++) {
      out.index[q * k + j] = Number(res.keys[q * k + j]);
      out.score[q * k + j] = 1 - res.distances[q * k + j];
    }
  }
  return out;
}
