/**
 * kNN exemplar retrieval — the simplest cross-slice transfer: a spot's prediction is the
 * similarity-weighted mean expression of its K most image-similar spots among the training
 * slices (cosine on the embeddings, as SpaHGC's CS edges; weights ∝ max(similarity, 0)).
 * The exemplar idea of EGGN and BLEEP without any learning; K is chosen from a small grid by
 * leave-one-slice-out inside the training slices, never on the test slice.
 */
import { cosineTopK } from "../../graph/knn.ts";
import { sliceMetrics } from "../../eval/metrics.ts";
import type { Method } from "../method.ts";
import { concatRows } from "../../util/arrays.ts";

export const KNN_GRID = [5, 10, 25, 50];

/** Weighted mean expression of each query's top-k bank rows. */
export function knnPredict(
  query: Float32Array,
  bankX: Float32Array,
  bankY: Float32Array,
  dim: number,
  G: number,
  k: number,
): Float32Array {
  const nb = bankX.length / dim;
  const kk = Math.min(k, nb);
  const top = cosineTopK(query, bankX, dim, kk);
  const nq = query.length / dim;
  const out = new Float32Array(nq * G);
  for (let q = 0; q < nq; q++) {
    let wsum = 0;
    for (let a = 0; a < kk; a++) wsum += Math.max(0, top.score[q * kk + a]) + 1e-6;
    for (let a = 0; a < kk; a++) {
      const b = top.index[q * kk + a], w = (Math.max(0, top.score[q * kk + a]) + 1e-6) / wsum;
      for (let g = 0; g < G; g++) out[q * G + g] += w * bankY[b * G + g];
    }
  }
  return out;
}

export function knnMethod(o: { k?: number; grid?: number[] } = {}): Method {
  const grid = o.k ? [o.k] : (o.grid ?? KNN_GRID);
  return {
    name: "knn",
    params: { grid, weights: "cosine similarity, clamped at 0", similarity: "cosine" },
    fit(train, dim, G) {
      let k = grid[0];
      const inner: Record<string, number> = {};
      if (grid.length > 1 && train.length >= 2) {
        // Inner leave-one-slice-out over the training slices picks K.
        let best = -Infinity;
        for (const kk of grid) {
          let sum = 0;
          for (const held of train) {
            const rest = train.filter((t) => t !== held);
            const pred = knnPredict(
              held.x,
              concatRows(rest.map((t) => t.x)),
              concatRows(rest.map((t) => t.y)),
              dim,
              G,
              kk,
            );
            const m = sliceMetrics(pred, held.y, held.n, G).pcc;
            sum += Number.isNaN(m) ? 0 : m;
          }
          inner[kk] = sum / train.length;
          if (inner[kk] > best) {
            best = inner[kk];
            k = kk;
          }
        }
      }
      const bankX = concatRows(train.map((t) => t.x)), bankY = concatRows(train.map((t) => t.y));
      return {
        predict: (s) => knnPredict(s.x, bankX, bankY, dim, G, k),
        selection: { k, innerPcc: inner, bankSpots: bankX.length / dim },
      };
    },
  };
}
