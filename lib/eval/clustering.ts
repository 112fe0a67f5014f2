/**
 * Clustering of spots and tumour localisation (evaluation.md, "Tumour localisation"): PCA of a
 * slice's expression, then k-means (k-means++ seeded, best of several restarts, as sklearn's
 * n_init) or Louvain communities on a kNN graph of the PC scores (scanpy's recipe), and the
 * adjusted Rand index against reference region labels — on predicted and on measured
 * expression, the latter being the ceiling.
 */
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import { kmeans } from "ml-kmeans";
import { UndirectedGraph } from "graphology";
import louvainModule from "graphology-communities-louvain";
import { euclideanKnn } from "../graph/knn.ts";
import { adjustedRandIndex } from "./stats.ts";

/** Principal-component scores (n × k) of a row-major n × d matrix, columns centred. */
export function pcaScores(x: ArrayLike<number>, n: number, d: number, k: number): Float64Array {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j] / n;
  // Eigen-decompose the n × n Gram matrix of the centred data (n ≤ d for spot × gene data):
  // its eigenvectors scaled by √λ are the PC scores.
  const c = new Matrix(n, d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) c.set(i, j, x[i * d + j] - mean[j]);
  const gram = c.mmul(c.transpose());
  const evd = new EigenvalueDecomposition(gram, { assumeSymmetric: true });
  const order = evd.realEigenvalues.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]);
  const kk = Math.min(k, n);
  const out = new Float64Array(n * kk);
  for (let a = 0; a < kk; a++) {
    const [lambda, col] = order[a];
    const s = Math.sqrt(Math.max(0, lambda));
    for (let i = 0; i < n; i++) out[i * kk + a] = evd.eigenvectorMatrix.get(i, col) * s;
  }
  return out;
}

/** k-means labels of n points (row-major n × d): k-means++, best inertia over `restarts` seeds. */
export function kmeansLabels(
  x: ArrayLike<number>,
  n: number,
  d: number,
  k: number,
  seed = 0,
  restarts = 10,
): number[] {
  const rows = Array.from(
    { length: n },
    (_, i) => Array.from({ length: d }, (_, j) => x[i * d + j]),
  );
  let best: number[] = [], bestInertia = Infinity;
  for (let r = 0; r < restarts; r++) {
    const res = kmeans(rows, k, {
      seed: seed * 1000 + r,
      initialization: "kmeans++",
      maxIterations: 300,
    });
    let inertia = 0;
    rows.forEach((p, i) => {
      const cen = res.centroids[res.clusters[i]];
      for (let j = 0; j < d; j++) inertia += (p[j] - cen[j]) ** 2;
    });
    if (inertia < bestInertia) {
      bestInertia = inertia;
      best = res.clusters;
    }
  }
  return best;
}

/** A small seeded generator (mulberry32) so Louvain's node order is reproducible. */
function seededRandom(seed: number): () => number {
  let a = (seed * 0x9e3779b9) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Louvain communities (graphology) of n points on their symmetrised, unweighted
 * `neighbours`-nearest-neighbour graph, as scanpy's `pp.neighbors` + `tl.louvain`. The number of
 * clusters follows from `resolution` (higher → more clusters), not from k.
 */
export function louvainLabels(
  x: ArrayLike<number>,
  n: number,
  d: number,
  o: { neighbours?: number; resolution?: number; seed?: number } = {},
): number[] {
  const k = Math.min(o.neighbours ?? 15, n - 1);
  const pts = Float32Array.from(x as ArrayLike<number>);
  const nn = euclideanKnn(pts, pts, d, k, { self: true });
  const g = new UndirectedGraph();
  for (let i = 0; i < n; i++) g.addNode(i);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < k; a++) {
      const j = nn.index[i * k + a];
      if (j >= 0 && !g.hasEdge(i, j)) g.addEdge(i, j);
    }
  }
  // The package is CommonJS: under Deno its default import is the module object.
  type Louvain = (
    g: UndirectedGraph,
    o: { resolution: number; rng: () => number },
  ) => Record<string, number>;
  const mod = louvainModule as unknown as Louvain & { default?: Louvain };
  const louvain = mod.default ?? mod;
  const comm = louvain(g, { resolution: o.resolution ?? 1, rng: seededRandom(o.seed ?? 0) });
  return Array.from({ length: n }, (_, i) => comm[String(i)]);
}

export type ClusterAlgorithm = "kmeans" | "louvain";

export interface ClusterOptions {
  algorithm?: ClusterAlgorithm;
  /** k-means: number of clusters (default 2: tumour / non-tumour). */
  k?: number;
  /** PCA components before clustering (default 10). */
  components?: number;
  seed?: number;
  /** Louvain: kNN graph size (default 15) and resolution (default 1). */
  neighbours?: number;
  resolution?: number;
}

/** Cluster labels of n spots × G genes: PCA then k-means or Louvain. */
export function clusterExpression(
  x: ArrayLike<number>,
  n: number,
  G: number,
  o: ClusterOptions = {},
): number[] {
  const kk = Math.min(o.components ?? 10, n);
  const pcs = pcaScores(x, n, G, kk);
  return (o.algorithm ?? "kmeans") === "louvain"
    ? louvainLabels(pcs, n, kk, o)
    : kmeansLabels(pcs, n, kk, o.k ?? 2, o.seed ?? 0);
}

/** How `clusterExpression` was run, in words (for reports and manifests). */
export function describeClustering(o: ClusterOptions = {}): string {
  const comps = o.components ?? 10, seed = o.seed ?? 0;
  return (o.algorithm ?? "kmeans") === "louvain"
    ? `PCA (${comps} components) → ${o.neighbours ?? 15}-NN graph → Louvain (resolution ${
      o.resolution ?? 1
    }, seed ${seed})`
    : `PCA (${comps} components) → k-means (k = ${o.k ?? 2}, k-means++, best of 10, seed ${seed})`;
}

export interface LocalisationOptions extends ClusterOptions {
  /** Labels counted as tumour (default: HER2+ pathologist "invasive cancer", "cancer in situ"). */
  tumourLabels?: string[];
  /** Labels left out (default: "undetermined"); spots without a label are left out too. */
  excludeLabels?: string[];
}

export interface LocalisationResult {
  ariPredicted: number;
  ariMeasured: number;
  spots: number;
  excluded: number;
  method: string;
  /** Indices (into the slice's spots) of the spots scored, and their labels and clusters. */
  spotIndex: number[];
  tumour: number[];
  clustersPredicted: number[];
  clustersMeasured: number[];
}

/**
 * Tumour localisation: cluster predicted and measured expression (n × G, same spots and genes)
 * into k groups and score each clustering with the ARI against tumour / non-tumour labels.
 */
export function tumourLocalisation(
  predicted: ArrayLike<number>,
  measured: ArrayLike<number>,
  G: number,
  labels: (string | null)[],
  o: LocalisationOptions = {},
): LocalisationResult {
  const tumour = new Set(o.tumourLabels ?? ["invasive cancer", "cancer in situ"]);
  const exclude = new Set(o.excludeLabels ?? ["undetermined"]);
  const keep = labels.map((l, i) => (l !== null && !exclude.has(l) ? i : -1)).filter((i) => i >= 0);
  const truth = keep.map((i) => (tumour.has(labels[i]!) ? 1 : 0));
  if (keep.length < 3) {
    throw new RangeError(
      `tumour localisation: ${keep.length} labelled spots (of ${labels.length}); need at least 3`,
    );
  }
  const cluster = (x: ArrayLike<number>) => {
    const sub = new Float64Array(keep.length * G);
    keep.forEach((i, r) => {
      for (let g = 0; g < G; g++) sub[r * G + g] = x[i * G + g];
    });
    return clusterExpression(sub, keep.length, G, o);
  };
  const cp = cluster(predicted), cm = cluster(measured);
  return {
    ariPredicted: adjustedRandIndex(cp, truth),
    ariMeasured: adjustedRandIndex(cm, truth),
    spots: keep.length,
    excluded: labels.length - keep.length,
    method: `${describeClustering(o)} → ARI vs tumour (${[...tumour].join(", ")}) / non-tumour`,
    spotIndex: keep,
    tumour: truth,
    clustersPredicted: cp,
    clustersMeasured: cm,
  };
}
