/**
 * Ridge regression from frozen image embeddings — the HEST-benchmark recipe: standardise the
 * features, PCA to ≤ 256 components, ridge regression to every gene at once; everything fitted
 * on training spots only. The penalty λ is chosen on the training slices alone by an inner
 * leave-one-slice-out loop over a fixed grid (mean slice PCC), never on the test slice.
 *
 * Linear algebra through ml-matrix (eigen-decomposition of the k×k Gram matrix): one
 * decomposition serves every λ, W(λ) = V diag(1/(s + λ)) Vᵀ ZᵀY.
 */
import { EigenvalueDecomposition, Matrix } from "ml-matrix";
import { sliceMetrics } from "../../eval/metrics.ts";
import type { Method } from "../method.ts";

export interface RidgeOptions {
  maxComponents?: number;
  /** Grid of λ, relative to the number of training spots. */
  lambdas?: number[];
}

export const DEFAULT_LAMBDAS = [1e-3, 1e-2, 1e-1, 1, 10, 100];

/** A fitted standardise → PCA → ridge pipeline. */
export class RidgeModel {
  constructor(
    readonly featMean: Float64Array,
    readonly featStd: Float64Array,
    readonly components: Matrix, // d × k
    readonly weights: Matrix, // k × G
    readonly yMean: Float64Array,
    readonly lambda: number,
  ) {}

  predict(x: Float32Array, n: number): Float32Array {
    const z = project(x, n, this.featMean, this.featStd, this.components);
    const y = z.mmul(this.weights);
    const G = this.yMean.length;
    const out = new Float32Array(n * G);
    for (let i = 0; i < n; i++) {
      for (let g = 0; g < G; g++) out[i * G + g] = y.get(i, g) + this.yMean[g];
    }
    return out;
  }
}

function project(
  x: Float32Array,
  n: number,
  mean: Float64Array,
  std: Float64Array,
  comps: Matrix,
): Matrix {
  const d = mean.length;
  const m = new Matrix(n, d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) m.set(i, j, (x[i * d + j] - mean[j]) / std[j]);
  }
  return m.mmul(comps);
}

/**
 * Fits the pipeline for each λ given training data (rows = spots). By default λ is per training
 * spot (penalty λ·n) and the targets are centred (an intercept); HEST-Benchmark's probe fits
 * sklearn's `Ridge(alpha, fit_intercept=False)`: `perSpot: false, intercept: false`.
 */
export function fitPcaRidge(
  x: Float32Array,
  y: Float32Array,
  n: number,
  d: number,
  G: number,
  lambdas: number[],
  maxK: number,
  o: { perSpot?: boolean; intercept?: boolean } = {},
): RidgeModel[] {
  const perSpot = o.perSpot ?? true, intercept = o.intercept ?? true;
  const mean = new Float64Array(d), std = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j] / n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) std[j] += (x[i * d + j] - mean[j]) ** 2 / n;
  }
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j]) || 1; // constant features stay 0
  const xs = new Matrix(n, d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) xs.set(i, j, (x[i * d + j] - mean[j]) / std[j]);
  }
  // PCA on the training spots: top-k eigenvectors of the covariance.
  const cov = xs.transpose().mmul(xs).div(Math.max(1, n - 1));
  const evd = new EigenvalueDecomposition(cov, { assumeSymmetric: true });
  const order = evd.realEigenvalues.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]);
  const k = Math.min(maxK, d, Math.max(1, n - 1));
  const comps = new Matrix(d, k);
  for (let c = 0; c < k; c++) {
    for (let j = 0; j < d; j++) comps.set(j, c, evd.eigenvectorMatrix.get(j, order[c][1]));
  }
  const z = xs.mmul(comps);
  const yMean = new Float64Array(G);
  if (intercept) {
    for (let i = 0; i < n; i++) for (let g = 0; g < G; g++) yMean[g] += y[i * G + g] / n;
  }
  const yc = new Matrix(n, G);
  for (let i = 0; i < n; i++) for (let g = 0; g < G; g++) yc.set(i, g, y[i * G + g] - yMean[g]);
  const gram = z.transpose().mmul(z);
  const ge = new EigenvalueDecomposition(gram, { assumeSymmetric: true });
  const V = ge.eigenvectorMatrix, s = ge.realEigenvalues;
  const vtzty = V.transpose().mmul(z.transpose().mmul(yc)); // k × G
  return lambdas.map((lam) => {
    const scaled = vtzty.clone();
    for (let a = 0; a < k; a++) {
      for (let g = 0; g < G; g++) {
        scaled.set(a, g, scaled.get(a, g) / (s[a] + (perSpot ? lam * n : lam)));
      }
    }
    return new RidgeModel(mean, std, comps, V.mmul(scaled), yMean, lam);
  });
}

export interface TrainingSlice {
  name: string;
  n: number;
  x: Float32Array;
  y: Float32Array;
}

function stack(parts: TrainingSlice[], d: number, G: number) {
  const n = parts.reduce((a, p) => a + p.n, 0);
  const x = new Float32Array(n * d), y = new Float32Array(n * G);
  let off = 0;
  for (const p of parts) {
    x.set(p.x, off * d);
    y.set(p.y, off * G);
    off += p.n;
  }
  return { n, x, y };
}

/**
 * Fits ridge on the training slices, choosing λ by inner leave-one-slice-out over them (with a
 * single training slice, 5-fold over its spots), then refits on all training data with that λ.
 */
export function fitRidge(
  train: TrainingSlice[],
  d: number,
  G: number,
  opts: RidgeOptions = {},
): { model: RidgeModel; innerPcc: Record<string, number> } {
  const lambdas = opts.lambdas ?? DEFAULT_LAMBDAS;
  const maxK = opts.maxComponents ?? 256;
  const innerPcc: Record<string, number> = {};
  let best = lambdas[0];
  let inner = train;
  if (train.length === 1 && train[0].n >= 10) {
    // One training slice (e.g. leave-one-patient-out with two patients): choose λ by 5-fold
    // cross-validation over its spots instead, interleaved so each part spans the tissue.
    const t = train[0];
    inner = Array.from({ length: 5 }, (_, k) => {
      const rows = Array.from({ length: t.n }, (_, i) => i).filter((i) => i % 5 === k);
      const x = new Float32Array(rows.length * d), y = new Float32Array(rows.length * G);
      rows.forEach((i, r) => {
        x.set(t.x.subarray(i * d, (i + 1) * d), r * d);
        y.set(t.y.subarray(i * G, (i + 1) * G), r * G);
      });
      return { name: `${t.name}#${k}`, n: rows.length, x, y };
    });
  }
  if (inner.length >= 2 && lambdas.length > 1) {
    const score = new Float64Array(lambdas.length);
    for (const held of inner) {
      const rest = stack(inner.filter((t) => t !== held), d, G);
      const models = fitPcaRidge(rest.x, rest.y, rest.n, d, G, lambdas, maxK);
      models.forEach((m, l) => {
        const pcc = sliceMetrics(m.predict(held.x, held.n), held.y, held.n, G).pcc;
        score[l] += (Number.isNaN(pcc) ? 0 : pcc) / inner.length;
      });
    }
    lambdas.forEach((l, i) => (innerPcc[String(l)] = score[i]));
    best = lambdas[score.indexOf(Math.max(...score))];
  }
  const all = stack(train, d, G);
  return { model: fitPcaRidge(all.x, all.y, all.n, d, G, [best], maxK)[0], innerPcc };
}

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
