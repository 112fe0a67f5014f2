/**
 * The heterogeneous graph of one target slice (method.md, "Heterogeneous graph"):
 *
 *   target nodes     the spots of the target slice, feature z_t (image embedding)
 *   reference nodes  the unique reference spots retrieved for them, feature [z_r ‖ y_r]
 *   TS edges         target → target: each target's Q nearest spots in the slice (paper), or
 *                    the released code's radius √10 on array coordinates with at most Q
 *   CS edges         reference → target: each target's top-K references by cosine similarity of
 *                    image embeddings, searched in a bank built from the fold's training
 *                    slices only
 *   RS edges         reference → reference: top-K by cosine of [z ‖ y] (paper) or Euclidean
 *                    kNN with k = 3 (released)
 *
 * Neighbourhoods have a fixed degree (Q, K) and are stored as dense index matrices — the layout
 * the model's message passing uses. Slots a radius graph leaves empty hold −1.
 */
import { DataError } from "../errors.ts";
import { cosineTopK, euclideanKnn } from "./knn.ts";
import { approximateCosineTopK } from "./ann.ts";

/** One slice's spots as the graph builder needs them. */
export interface GraphSlice {
  name: string;
  n: number;
  spots: string[];
  /** n × 2 spot coordinates (array grid) used for TS edges. */
  coords: Float32Array;
  /** n × d image embeddings. */
  features: Float32Array;
  /** n × M expression targets (reference slices only). */
  expression?: Float32Array;
}

/**
 * A slice as the graph builder sees it: spots, array-grid coordinates (for TS edges), its
 * embeddings and, for reference slices, its expression targets (n × M).
 */
export function toGraphSlice(
  s: { name: string; spots: string[]; array: { x: ArrayLike<number>; y: ArrayLike<number> } },
  features: Float32Array,
  expression?: Float32Array,
): GraphSlice {
  const n = s.spots.length;
  const coords = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    coords[2 * i] = s.array.x[i];
    coords[2 * i + 1] = s.array.y[i];
  }
  return { name: s.name, n, spots: s.spots, coords, features, expression };
}

export interface GraphParams {
  Q: number;
  K: number;
  /** TS edges: `knn` (paper) or `radius` (released code: radius √10 on array coordinates, ≤ Q). */
  ts: "knn" | "radius";
  /** RS edges: `cosine` top-K on [z ‖ y] (paper) or `euclidean` kNN with k = 3 (released). */
  rs: "cosine" | "euclidean";
  /**
   * CS retrieval: `exact` (batched dot products), `approximate` (usearch HNSW), or `auto`
   * (approximate for banks over 100,000 spots). Default `auto`.
   */
  retrieval?: "exact" | "approximate" | "auto";
}

/** Banks above this size use approximate retrieval under `retrieval: "auto"`. */
export const APPROXIMATE_BANK_SIZE = 100_000;

export const PAPER_GRAPH: GraphParams = { Q: 5, K: 7, ts: "knn", rs: "cosine" };
export const RELEASED_GRAPH: GraphParams = { Q: 5, K: 7, ts: "radius", rs: "euclidean" };

/** The reference bank: every spot of the training slices, with where it came from. */
export interface ReferenceBank {
  slices: string[];
  n: number;
  dim: number;
  genes: number;
  features: Float32Array;
  expression: Float32Array;
  origin: { slice: number; spot: number }[];
}

export interface HeteroGraph {
  target: { slice: string; n: number; dim: number; features: Float32Array };
  reference: {
    n: number;
    dim: number;
    genes: number;
    features: Float32Array;
    expression: Float32Array;
    origin: { slice: string; spot: string }[];
  };
  /** nTarget × Q target indices (−1 = no neighbour). */
  ts: { degree: number; index: Int32Array };
  /** nTarget × K reference-node indices, with the cosine similarities. */
  cs: { degree: number; index: Int32Array; similarity: Float32Array };
  /** nReference × k reference-node indices. */
  rs: { degree: number; index: Int32Array };
  params: GraphParams;
  bankSlices: string[];
}

/**
 * Builds the reference bank from training slices. `exclude` names the slices that must never
 * enter it (the fold's test and validation slices); naming one of them in `slices` is an error,
 * not a silent drop, so a leaking caller fails loudly.
 */
export function buildBank(slices: GraphSlice[], exclude: string[]): ReferenceBank {
  const leak = slices.filter((s) => exclude.includes(s.name)).map((s) => s.name);
  if (leak.length) {
    throw new DataError(`reference bank would contain held-out slice(s) ${leak.join(", ")}`);
  }
  if (slices.length === 0) throw new DataError("reference bank needs at least one training slice");
  const dim = slices[0].features.length / slices[0].n;
  const genes = slices[0].expression ? slices[0].expression.length / slices[0].n : 0;
  const n = slices.reduce((a, s) => a + s.n, 0);
  const features = new Float32Array(n * dim), expression = new Float32Array(n * genes);
  const origin: { slice: number; spot: number }[] = [];
  let off = 0;
  slices.forEach((s, si) => {
    if (!s.expression) throw new DataError(`reference slice ${s.name} has no expression`);
    if (s.features.length !== s.n * dim || s.expression.length !== s.n * genes) {
      throw new DataError(
        `reference slice ${s.name}: features or expression of the wrong size (d = ${dim}, M = ${genes})`,
      );
    }
    features.set(s.features, off * dim);
    expression.set(s.expression, off * genes);
    for (let i = 0; i < s.n; i++) origin.push({ slice: si, spot: i });
    off += s.n;
  });
  return { slices: slices.map((s) => s.name), n, dim, genes, features, expression, origin };
}

/**
 * Builds the graph of one target slice against a bank, which must not contain it — except when
 * `selfBank` is set: a training slice that is the only one of its fold may retrieve from itself,
 * never the same spot (training data only; a test slice never takes this path).
 */
export function buildGraph(
  target: GraphSlice,
  bank: ReferenceBank,
  p: GraphParams,
  bankSliceSpots?: Map<string, string[]>,
  opts: { selfBank?: boolean } = {},
): HeteroGraph {
  const selfIndex = bank.slices.indexOf(target.name);
  if (selfIndex >= 0 && !opts.selfBank) {
    throw new DataError(`target slice ${target.name} is in its own reference bank`);
  }
  const dim = target.features.length / target.n;
  if (dim !== bank.dim) {
    throw new DataError(`target ${target.name} has d = ${dim}, the bank d = ${bank.dim}`);
  }
  if (p.Q < 1 || p.K < 1) throw new RangeError(`Q and K must be ≥ 1 (Q = ${p.Q}, K = ${p.K})`);
  if (target.n <= p.Q && p.ts === "knn") {
    throw new DataError(`target ${target.name} has ${target.n} spots, too few for Q = ${p.Q}`);
  }

  // TS: spatial neighbours within the slice.
  const tsK = p.ts === "knn"
    ? euclideanKnn(target.coords, target.coords, 2, p.Q, { self: true })
    : euclideanKnn(target.coords, target.coords, 2, p.Q, {
      self: true,
      maxDistance: Math.sqrt(10),
    });

  // CS: top-K bank spots by cosine similarity of image embeddings.
  const approximate = p.retrieval === "approximate" ||
    ((p.retrieval ?? "auto") === "auto" && bank.n > APPROXIMATE_BANK_SIZE);
  const sameSpot = selfIndex >= 0
    ? (q: number, b: number) => bank.origin[b].slice === selfIndex && bank.origin[b].spot === q
    : undefined;
  const cs = approximate && !sameSpot
    ? approximateCosineTopK(target.features, bank.features, dim, p.K)
    : cosineTopK(target.features, bank.features, dim, p.K, sameSpot);
  if (cs.index.some((v) => v < 0)) {
    throw new DataError(
      `retrieval returned fewer than K = ${p.K} references for some target spots`,
    );
  }
  // Reference nodes: the unique retrieved bank rows, in order of first retrieval.
  const nodeOf = new Map<number, number>();
  const bankRows: number[] = [];
  const csIndex = new Int32Array(cs.index.length);
  cs.index.forEach((b, e) => {
    if (!nodeOf.has(b)) {
      nodeOf.set(b, bankRows.length);
      bankRows.push(b);
    }
    csIndex[e] = nodeOf.get(b)!;
  });
  const nR = bankRows.length, M = bank.genes;
  const refFeatures = new Float32Array(nR * dim), refExpr = new Float32Array(nR * M);
  bankRows.forEach((b, r) => {
    refFeatures.set(bank.features.subarray(b * dim, (b + 1) * dim), r * dim);
    refExpr.set(bank.expression.subarray(b * M, (b + 1) * M), r * M);
  });

  // RS: among reference nodes.
  let rs;
  if (p.rs === "cosine") {
    const joint = new Float32Array(nR * (dim + M));
    for (let r = 0; r < nR; r++) {
      joint.set(refFeatures.subarray(r * dim, (r + 1) * dim), r * (dim + M));
      joint.set(refExpr.subarray(r * M, (r + 1) * M), r * (dim + M) + dim);
    }
    const k = Math.min(p.K, nR - 1);
    rs = k > 0
      ? cosineTopK(joint, joint, dim + M, k, (q, b) => q === b)
      : { k: 0, index: new Int32Array(0), score: new Float32Array(0) };
  } else {
    const joint = new Float32Array(nR * (dim + M));
    for (let r = 0; r < nR; r++) {
      joint.set(refFeatures.subarray(r * dim, (r + 1) * dim), r * (dim + M));
      joint.set(refExpr.subarray(r * M, (r + 1) * M), r * (dim + M) + dim);
    }
    rs = euclideanKnn(joint, joint, dim + M, Math.min(3, nR - 1), { self: true });
  }

  return {
    target: { slice: target.name, n: target.n, dim, features: target.features },
    reference: {
      n: nR,
      dim,
      genes: M,
      features: refFeatures,
      expression: refExpr,
      origin: bankRows.map((b) => {
        const o = bank.origin[b];
        const name = bank.slices[o.slice];
        return { slice: name, spot: bankSliceSpots?.get(name)?.[o.spot] ?? String(o.spot) };
      }),
    },
    ts: { degree: tsK.k, index: tsK.index },
    cs: { degree: p.K, index: csIndex, similarity: cs.score },
    rs: { degree: rs.k, index: rs.index },
    params: p,
    bankSlices: bank.slices,
  };
}

/** Node, edge and degree statistics of a graph (printable, and recorded in manifests). */
export function graphStats(g: HeteroGraph) {
  const inDegree = (index: Int32Array, n: number) => {
    const d = new Int32Array(n);
    for (const v of index) if (v >= 0) d[v]++;
    let min = Infinity, max = 0;
    for (const v of d) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    return { min, max };
  };
  const count = (index: Int32Array) => index.reduce((a, v) => a + (v >= 0 ? 1 : 0), 0);
  return {
    slice: g.target.slice,
    targets: g.target.n,
    references: g.reference.n,
    referenceSlices: [...new Set(g.reference.origin.map((o) => o.slice))].sort(),
    edges: { ts: count(g.ts.index), cs: count(g.cs.index), rs: count(g.rs.index) },
    degree: {
      tsOut: g.ts.degree,
      csPerTarget: g.cs.degree,
      csPerReference: inDegree(g.cs.index, g.reference.n),
      rsOut: g.rs.degree,
    },
    meanCsSimilarity: g.cs.similarity.reduce((a, v) => a + v, 0) / g.cs.similarity.length,
  };
}
