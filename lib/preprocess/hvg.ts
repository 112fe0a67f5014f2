/**
 * Highly variable genes with scanpy's `highly_variable_genes` semantics, and the three
 * gene-selection recipes notebooks cite by name.
 *
 * Flavour `seurat` (scanpy ≥ 1.5, on log-normalised data):
 *   x = expm1(log-normalised) = normalised counts; per gene mean μ and variance σ² (ddof 1);
 *   μ = 1e-12 where μ = 0; dispersion δ = σ²/μ, δ = NaN where δ = 0; δ ← ln δ; μ ← ln(1 + μ);
 *   genes binned by μ into 20 equal-width bins (`pd.cut`: right-closed, the lowest edge lowered
 *   by 0.1 % of the range); δ_norm = (δ − mean_bin(δ)) / std_bin(δ) (NaN skipped, ddof 1; a bin
 *   whose std is undefined gets mean 0 and std = its mean, i.e. δ_norm = 1);
 *   with n_top: cut-off = the n-th largest non-NaN δ_norm; HVG = nan_to_num(δ_norm) ≥ cut-off
 *   (ties at the cut-off can select a few more than n).
 * Flavour `seurat_v3` (on raw counts): μ, σ² (ddof 1); for genes with σ² > 0 a LOESS (span 0.3,
 *   degree 2) of log10 σ² on log10 μ gives the expected σ̂; counts clipped at μ + σ̂·√N; the
 *   standardised variance v = (N μ² + Σ x_c² − 2 μ Σ x_c) / ((N − 1) σ̂²); top n by v.
 */
import { DataError } from "../errors.ts";
import { CsrMatrix } from "../data/sparse.ts";
import type { Slice } from "../data/slice.ts";
import { log1p, normalizeTotal } from "./normalize.ts";
import { loessFit } from "./loess.ts";

export type HvgFlavor = "seurat" | "seurat_v3";

export interface HvgResult {
  means: Float64Array;
  /** seurat: ln dispersion; seurat_v3: variance. */
  dispersions: Float64Array;
  /** seurat: normalised dispersion; seurat_v3: standardised variance. */
  dispersionsNorm: Float64Array;
  highlyVariable: boolean[];
}

/** Per-gene mean and unbiased variance of a CSR matrix's columns (two passes, float64). */
export function meanVar(m: CsrMatrix): { mean: Float64Array; variance: Float64Array } {
  const n = m.nRows;
  const mean = m.colSums().map((s) => s / n);
  const ss = new Float64Array(m.nCols);
  const nz = new Int32Array(m.nCols);
  for (let k = 0; k < m.nnz; k++) {
    const j = m.indices[k];
    const d = m.data[k] - mean[j];
    ss[j] += d * d;
    nz[j]++;
  }
  // Implicit zeros contribute (0 − μ)² each.
  const variance = new Float64Array(m.nCols);
  for (let j = 0; j < m.nCols; j++) {
    variance[j] = n > 1 ? (ss[j] + (n - nz[j]) * mean[j] * mean[j]) / (n - 1) : 0;
  }
  return { mean, variance };
}

/** Bin index of each value under `pd.cut(values, bins)` (right-closed equal-width bins). */
export function pdCutBins(values: Float64Array, bins: number): Int32Array {
  let mn = Infinity, mx = -Infinity;
  for (const v of values) {
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  let edges: number[];
  if (mn === mx) {
    const lo = mn === 0 ? -0.001 : mn - 0.001 * Math.abs(mn);
    const hi = mx === 0 ? 0.001 : mx + 0.001 * Math.abs(mx);
    edges = Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins);
  } else {
    // np.linspace(mn, mx, bins + 1), then the first edge lowered by 0.1 % of the range.
    edges = Array.from(
      { length: bins + 1 },
      (_, i) => (i === bins ? mx : mn + ((mx - mn) * i) / bins),
    );
    edges[0] -= (mx - mn) * 0.001;
  }
  const out = new Int32Array(values.length);
  values.forEach((v, g) => {
    // searchsorted(edges, v, side="left") − 1: the bin (edges[b], edges[b+1]] holding v.
    let lo = 0, hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (edges[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    out[g] = Math.min(bins - 1, Math.max(0, lo - 1));
  });
  return out;
}

/** scanpy `flavor="seurat"` on library-size-normalised (not logged) values. */
export function hvgSeurat(normalised: CsrMatrix, nTop: number, nBins = 20): HvgResult {
  const { mean, variance } = meanVar(normalised);
  const G = normalised.nCols;
  const means = new Float64Array(G), disp = new Float64Array(G);
  for (let g = 0; g < G; g++) {
    const mu = mean[g] === 0 ? 1e-12 : mean[g];
    const d = variance[g] / mu;
    disp[g] = d === 0 ? NaN : Math.log(d);
    means[g] = Math.log1p(mu);
  }
  const bin = pdCutBins(means, nBins);
  const sum = new Float64Array(nBins), sumSq = new Float64Array(nBins), cnt = new Int32Array(nBins);
  for (let g = 0; g < G; g++) {
    if (Number.isNaN(disp[g])) continue;
    sum[bin[g]] += disp[g];
    cnt[bin[g]]++;
  }
  const binMean = Float64Array.from(sum, (s, b) => (cnt[b] ? s / cnt[b] : NaN));
  for (let g = 0; g < G; g++) {
    if (!Number.isNaN(disp[g])) sumSq[bin[g]] += (disp[g] - binMean[bin[g]]) ** 2;
  }
  const binStd = Float64Array.from(
    sumSq,
    (s, b) => (cnt[b] > 1 ? Math.sqrt(s / (cnt[b] - 1)) : NaN),
  );
  for (let b = 0; b < nBins; b++) {
    if (Number.isNaN(binStd[b])) {
      binStd[b] = binMean[b];
      binMean[b] = 0;
    }
  }
  const norm = Float64Array.from(disp, (d, g) => (d - binMean[bin[g]]) / binStd[bin[g]]);
  const finite = Array.from(norm).filter((v) => !Number.isNaN(v)).sort((a, b) => b - a);
  const n = Math.min(nTop, G, finite.length);
  const cut = n > 0 ? finite[n - 1] : Infinity;
  const highlyVariable = Array.from(norm, (v) => (Number.isNaN(v) ? 0 : v) >= cut);
  return { means, dispersions: disp, dispersionsNorm: norm, highlyVariable };
}

/** scanpy `flavor="seurat_v3"` on raw counts (single batch). */
export function hvgSeuratV3(counts: CsrMatrix, nTop: number, span = 0.3): HvgResult {
  const { mean, variance } = meanVar(counts);
  const G = counts.nCols, N = counts.nRows;
  const varying = Array.from({ length: G }, (_, g) => g).filter((g) => variance[g] > 0);
  const fit = loessFit(
    varying.map((g) => Math.log10(mean[g])),
    varying.map((g) => Math.log10(variance[g])),
    span,
    2,
  );
  const regStd = new Float64Array(G).fill(1); // 10^0 for constant genes, as scanpy's zeros
  varying.forEach((g, i) => (regStd[g] = Math.sqrt(10 ** fit[i])));
  const vmax = Math.sqrt(N);
  const sumC = new Float64Array(G), sumC2 = new Float64Array(G);
  for (let k = 0; k < counts.nnz; k++) {
    const g = counts.indices[k];
    const c = Math.min(counts.data[k], regStd[g] * vmax + mean[g]);
    sumC[g] += c;
    sumC2[g] += c * c;
  }
  const norm = Float64Array.from(
    { length: G },
    (_, g) =>
      (1 / ((N - 1) * regStd[g] * regStd[g])) *
      (N * mean[g] * mean[g] + sumC2[g] - 2 * sumC[g] * mean[g]),
  );
  const order = Array.from({ length: G }, (_, g) => g).sort((a, b) => norm[b] - norm[a] || a - b);
  const highlyVariable = new Array<boolean>(G).fill(false);
  for (const g of order.slice(0, Math.min(nTop, G))) highlyVariable[g] = true;
  return { means: mean, dispersions: variance, dispersionsNorm: norm, highlyVariable };
}

/** HVGs of one slice: `seurat` on log-normalised counts (target sum as given), `seurat_v3` on raw counts. */
export function sliceHvg(
  s: Slice,
  flavor: HvgFlavor,
  nTop: number,
  targetSum: number | "median",
): HvgResult {
  if (flavor === "seurat_v3") return hvgSeuratV3(countsFor(s), nTop);
  // scanpy undoes the log with expm1 before computing moments; normalising without the log
  // round trip gives the same values without float32 rounding through log/exp.
  return hvgSeurat(normalisedFor(s, targetSum), nTop);
}

/** Library-size-normalised values of a slice (for declared log-normalised input: expm1 of it). */
function normalisedFor(s: Slice, targetSum: number | "median"): CsrMatrix {
  if (!s.normalised) return normalizeTotal(s.counts, targetSum);
  const m = s.counts;
  return new CsrMatrix(m.nRows, m.nCols, m.indptr, m.indices, m.data.map(Math.expm1));
}

/** Raw counts, for what needs them (seurat_v3); declared log-normalised input has none. */
function countsFor(s: Slice): CsrMatrix {
  if (s.normalised) {
    throw new DataError(
      `seurat_v3 HVGs need raw counts; slice ${s.name} was declared normalised (use --flavor seurat)`,
    );
  }
  return s.counts;
}

export type GeneRecipe = "intersection" | "batch-ranked" | "histogene" | "list";

export interface GeneSelectionParams {
  recipe: GeneRecipe;
  flavor: HvgFlavor;
  /** Top-N per slice (intersection, batch-ranked per batch) or in total (batch-ranked). */
  nTop: number;
  targetSum: number | "median";
  /** histogene: the section HVGs are taken from (default: first by name). */
  referenceSlice?: string;
  /** histogene: HVGs taken on the reference section (default 1500). */
  referenceTop?: number;
  /** histogene: sections whose detections are summed (default: sorted names [1, 33) as HisToGene). */
  detectionSlices?: string[];
  /** histogene: minimum number of spots with count > 0 over the detection sections (default 1000). */
  minSpots?: number;
  /** list: the genes, as given (`train --genes`); each must be in every slice. */
  genes?: string[];
}

export interface GeneSelection {
  recipe: GeneRecipe;
  params: GeneSelectionParams & { slices: string[] };
  genes: string[];
  perSlice: { name: string; hvg: number }[];
  notes: string[];
}

export const DEFAULT_GENE_PARAMS: GeneSelectionParams = {
  recipe: "intersection",
  flavor: "seurat",
  nTop: 1000,
  targetSum: 1e6,
};

/** Gene names present in every slice, in the first slice's order. */
export function commonGenes(slices: Slice[]): string[] {
  const sets = slices.slice(1).map((s) => new Set(s.genes));
  return slices[0].genes.filter((g) => sets.every((set) => set.has(g)));
}

/**
 * Selects the shared gene set of a cohort by a named recipe (see the issue text and
 * method.md): `intersection` (the paper: per-slice top-N, intersected), `batch-ranked`
 * (scanpy's batch_key: ranked by the number of slices calling a gene HVG, ties by mean
 * normalised dispersion), `histogene` (the 785-gene HER2+ list of HisToGene/Hist2ST/SpaHGC).
 * Pass only the slices the selection may see (all: `paper` mode; training slices: `strict`).
 */
export function selectGenes(slices: Slice[], p: GeneSelectionParams): GeneSelection {
  if (slices.length === 0) throw new DataError("gene selection needs at least one slice");
  const params = { ...p, slices: slices.map((s) => s.name) };
  const notes: string[] = [];
  if (p.recipe === "list") {
    const genes = [...new Set(p.genes ?? [])];
    if (!genes.length) throw new DataError("gene list is empty (give --genes A,B,… or a file)");
    for (const s of slices) {
      const have = new Set(s.genes);
      const missing = genes.filter((g) => !have.has(g));
      if (missing.length) {
        throw new DataError(
          `${missing.length} of the ${genes.length} listed genes are not in slice ${s.name} (e.g. ${
            missing.slice(0, 5).join(", ")
          }): drop them from the list, or check the gene naming (symbols vs Ensembl ids)`,
          { gene: missing[0] },
        );
      }
    }
    if (genes.length < (p.genes ?? []).length) {
      notes.push(`${(p.genes ?? []).length - genes.length} duplicate name(s) in the list dropped`);
    }
    notes.push(`${genes.length} genes as listed`);
    return { recipe: "list", params, genes, perSlice: [], notes };
  }
  if (p.recipe === "histogene") {
    const names = slices.map((s) => s.name).sort();
    const refName = p.referenceSlice ?? names[0];
    const ref = slices.find((s) => s.name === refName);
    if (!ref) {
      throw new DataError(
        `histogene recipe: reference slice '${refName}' not among ${names.join(", ")}`,
      );
    }
    const refTop = p.referenceTop ?? 1500;
    const hvg = hvgSeurat(normalisedFor(ref, "median"), refTop);
    const top = ref.genes.filter((_, g) => hvg.highlyVariable[g]);
    const everywhere = new Set(commonGenes(slices));
    const present = top.filter((g) => everywhere.has(g));
    const detNames = p.detectionSlices ?? names.slice(1, 33);
    const minSpots = p.minSpots ?? 1000;
    const detected = new Map(present.map((g) => [g, 0]));
    for (const name of detNames) {
      const s = slices.find((x) => x.name === name);
      if (!s) throw new DataError(`histogene recipe: detection slice '${name}' not loaded`);
      const nz = s.counts.colNonzeroCounts();
      s.genes.forEach((g, j) => detected.has(g) && detected.set(g, detected.get(g)! + nz[j]));
    }
    const genes = present.filter((g) => detected.get(g)! >= minSpots);
    notes.push(
      `${top.length} HVGs on ${refName} (seurat, median library size, log1p)`,
      `${present.length} present in all ${slices.length} slices`,
      `${genes.length} detected in ≥ ${minSpots} spots over ${detNames.length} slices (${
        detNames[0]
      }…${detNames[detNames.length - 1]})`,
    );
    if (genes.length === 0) {
      throw new DataError(
        `histogene recipe selected no genes (${
          notes.join("; ")
        }). It is HER2+'s recipe (36 sections, a gene kept when detected in ≥ 1000 spots over 32 of them); for other data use --recipe intersection or batch-ranked, or give your genes with --genes`,
      );
    }
    Object.assign(params, {
      referenceSlice: refName,
      referenceTop: refTop,
      detectionSlices: detNames,
      minSpots,
    });
    return {
      recipe: p.recipe,
      params,
      genes,
      perSlice: [{ name: refName, hvg: top.length }],
      notes,
    };
  }

  const common = commonGenes(slices);
  if (p.recipe === "intersection") {
    const per = slices.map((s) => ({ s, r: sliceHvg(s, p.flavor, p.nTop, p.targetSum) }));
    const perSlice = per.map(({ s, r }) => ({
      name: s.name,
      hvg: r.highlyVariable.filter(Boolean).length,
    }));
    const sets = per.map(({ s, r }) => new Set(s.genes.filter((_, g) => r.highlyVariable[g])));
    const genes = common.filter((g) => sets.every((set) => set.has(g)));
    if (genes.length === 0) {
      throw new DataError(
        `the intersection of per-slice top-${p.nTop} HVGs over ${slices.length} slices is empty; use --recipe batch-ranked (scanpy batch_key ranking) or --recipe histogene (the 785-gene HER2+ list), or a larger --n-top`,
      );
    }
    notes.push(
      `${genes.length} genes are HVG in all ${slices.length} slices (${common.length} genes shared)`,
    );
    return { recipe: p.recipe, params, genes, perSlice, notes };
  }
  // batch-ranked, as scanpy's batch_key: per slice, HVGs among the shared genes detected in that
  // slice (scanpy filters min_cells=1 per batch); undetected genes count as not HVG with
  // normalised dispersion 0; genes ranked by the number of slices calling them HVG, ties by the
  // NaN-skipping mean of normalised dispersion (NaN last).
  const nb = new Float64Array(common.length),
    dsum = new Float64Array(common.length),
    dcnt = new Int32Array(common.length);
  const perSlice: { name: string; hvg: number }[] = [];
  for (const s of slices) {
    const col = new Map(s.genes.map((g, j) => [g, j]));
    const cols = common.map((g) => col.get(g)!);
    const base = p.flavor === "seurat_v3" ? countsFor(s) : normalisedFor(s, p.targetSum);
    const nz = base.colNonzeroCounts();
    const keep = common.map((_, i) => i).filter((i) => nz[cols[i]] > 0);
    const sub = base.selectCols(keep.map((i) => cols[i]));
    const r = p.flavor === "seurat_v3" ? hvgSeuratV3(sub, p.nTop) : hvgSeurat(sub, p.nTop);
    perSlice.push({ name: s.name, hvg: r.highlyVariable.filter(Boolean).length });
    const kept = new Set(keep);
    keep.forEach((i, k) => {
      if (r.highlyVariable[k]) nb[i]++;
      if (!Number.isNaN(r.dispersionsNorm[k])) {
        dsum[i] += r.dispersionsNorm[k];
        dcnt[i]++;
      }
    });
    for (let i = 0; i < common.length; i++) if (!kept.has(i)) dcnt[i]++; // a 0 for this batch
  }
  const disp = Float64Array.from(dsum, (v, i) => (dcnt[i] ? v / dcnt[i] : NaN));
  const order = common.map((_, i) => i).sort((a, b) =>
    nb[b] - nb[a] || (Number.isNaN(disp[a]) ? 1 : 0) - (Number.isNaN(disp[b]) ? 1 : 0) ||
    disp[b] - disp[a]
  );
  const chosen = order.slice(0, Math.min(p.nTop, order.length));
  const genes = chosen.map((i) => common[i]);
  notes.push(
    `top ${genes.length} of ${common.length} shared genes; HVG in ≥ ${
      nb[chosen[chosen.length - 1]] ?? 0
    } of ${slices.length} slices`,
  );
  return { recipe: p.recipe, params, genes, perSlice, notes };
}

/** Log-normalised expression helper re-exported for callers that need the seurat input. */
export { log1p, normalizeTotal };
