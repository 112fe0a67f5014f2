/**
 * Clustering of spots and tumour localisation (evaluation.md, "Tumour localisation"): PCA of a
 * slice's expression, k-means (k-means++ seeded, best of several restarts, as sklearn's
 * n_init), and the adjusted Rand index against reference region labels — on predicted and on
 * measured expression, the latter being the ceiling.
 */
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import { kmeans } from "ml-kmeans";
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

export interface LocalisationOptions {
  /** Labels counted as tumour (default: HER2+ pathologist "invasive cancer", "cancer in situ"). */
  tumourLabels?: string[];
  /** Labels left out (default: "undetermined"); spots without a label are left out too. */
  excludeLabels?: string[];
  k?: number;
  components?: number;
  seed?: number;
}

export interface LocalisationResult {
  ariPredicted: number;
  ariMeasured: number;
  spots: number;
  excluded: number;
  method: string;
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
  const k = o.k ?? 2, comps = o.components ?? 10, seed = o.seed ?? 0;
  const cluster = (x: ArrayLike<number>) => {
    const sub = new Float64Array(keep.length * G);
    keep.forEach((i, r) => {
      for (let g = 0; g < G; g++) sub[r * G + g] = x[i * G + g];
    });
    const kk = Math.min(comps, keep.length);
    return kmeansLabels(pcaScores(sub, keep.length, G, kk), keep.length, kk, k, seed);
  };
  return {
    ariPredicted: adjustedRandIndex(cluster(predicted), truth),
    ariMeasured: adjustedRandIndex(cluster(measured), truth),
    spots: keep.length,
    excluded: labels.length - keep.length,
    method:
      `PCA (${comps} components) → k-means (k = ${k}, k-means++, best of 10, seed ${seed}) → ARI vs tumour (${
        [...tumour].join(", ")
      }) / non-tumour`,
  };
}
