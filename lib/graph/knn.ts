/**
 * Exact nearest-neighbour searches over row-major float matrices, the building blocks of the
 * heterogeneous graph: spatial kNN (TS edges), cosine top-K retrieval (CS, RS edges) and
 * Euclidean kNN (RS, released-code variant).
 *
 * Written here rather than taken from a library: the sets are small (hundreds of queries,
 * thousands of bank rows), exact search is a single pass of dot products, and exactness keeps
 * graphs reproducible. Ties are broken by the lower index, so results are deterministic.
 */

/** Indices and scores of the k best rows for each query, row-major (nQuery × k). */
export interface TopK {
  k: number;
  index: Int32Array;
  score: Float32Array;
}

/** Keeps the k best (highest score, lowest index on ties) of a stream; k is small. */
function insert(
  idx: Int32Array,
  sc: Float32Array,
  base: number,
  k: number,
  filled: number,
  j: number,
  score: number,
): number {
  const s = Math.fround(score); // compare at the stored (float32) precision, so ties stay ties
  // Find position: after all entries with score > s, or equal score and lower index.
  let pos = Math.min(filled, k);
  while (
    pos > 0 && (sc[base + pos - 1] < s || (sc[base + pos - 1] === s && idx[base + pos - 1] > j))
  ) pos--;
  if (pos >= k) return filled;
  const end = Math.min(filled, k - 1);
  for (let t = end; t > pos; t--) {
    idx[base + t] = idx[base + t - 1];
    sc[base + t] = sc[base + t - 1];
  }
  idx[base + pos] = j;
  sc[base + pos] = s;
  return Math.min(filled + 1, k);
}

/** Row-wise L2 normalisation (zero rows stay zero). */
export function normalizeRows(x: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length / dim; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[i * dim + j] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dim; j++) out[i * dim + j] = x[i * dim + j] * inv;
  }
  return out;
}

/**
 * Top-k bank rows by cosine similarity for every query. `exclude(q, b)` can forbid pairs
 * (e.g. a node retrieving itself). Fewer than k candidates → error.
 */
export function cosineTopK(
  queries: Float32Array,
  bank: Float32Array,
  dim: number,
  k: number,
  exclude?: (q: number, b: number) => boolean,
): TopK {
  const nq = queries.length / dim, nb = bank.length / dim;
  if (nb - (exclude ? 1 : 0) < k) {
    throw new RangeError(`top-${k} retrieval from a bank of ${nb} rows`);
  }
  const qn = normalizeRows(queries, dim), bn = normalizeRows(bank, dim);
  const index = new Int32Array(nq * k).fill(-1), score = new Float32Array(nq * k).fill(-Infinity);
  for (let q = 0; q < nq; q++) {
    let filled = 0;
    const qo = q * dim;
    for (let b = 0; b < nb; b++) {
      if (exclude?.(q, b)) continue;
      let s = 0;
      const bo = b * dim;
      for (let j = 0; j < dim; j++) s += qn[qo + j] * bn[bo + j];
      filled = insert(index, score, q * k, k, filled, b, s);
    }
  }
  return { k, index, score };
}

/**
 * The k nearest rows by Euclidean distance (score = −distance). With `self = true` queries and
 * bank are the same set and a row never retrieves itself. `maxDistance` keeps only neighbours
 * within that radius; missing slots are −1 (the released code's radius graph).
 */
export function euclideanKnn(
  queries: Float32Array,
  bank: Float32Array,
  dim: number,
  k: number,
  opts: { self?: boolean; maxDistance?: number } = {},
): TopK {
  const nq = queries.length / dim, nb = bank.length / dim;
  const index = new Int32Array(nq * k).fill(-1), score = new Float32Array(nq * k).fill(-Infinity);
  const r2 = opts.maxDistance === undefined ? Infinity : opts.maxDistance ** 2;
  for (let q = 0; q < nq; q++) {
    let filled = 0;
    for (let b = 0; b < nb; b++) {
      if (opts.self && b === q) continue;
      let d2 = 0;
      for (let j = 0; j < dim; j++) d2 += (queries[q * dim + j] - bank[b * dim + j]) ** 2;
      if (d2 > r2 + 1e-9) continue;
      filled = insert(index, score, q * k, k, filled, b, -Math.sqrt(d2));
    }
  }
  return { k, index, score };
}
