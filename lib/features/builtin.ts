/**
 * The built-in histology descriptor: a deterministic, training-free, offline image encoder, so
 * the whole pipeline runs with no model weights. It is a baseline, not a foundation model: it
 * captures stain, texture and cell-density cues that separate tissue compartments (tumour,
 * stroma, immune, fat, glands), which is what cross-slice retrieval and expression regression
 * need from an encoder; it does not capture cell morphology the way UNI-style ViTs do.
 *
 * Input: patches of `inputSize` (default 112) px covering the 224-px tissue square; features
 * (d = 276), in order:
 *  1. Colour deconvolution (Ruifrok & Johnston 2001 H&E-DAB matrix, as skimage's rgb2hed) into
 *     haematoxylin (nuclei), eosin (cytoplasm/stroma) and residual optical densities; per
 *     channel mean, std and 10/25/50/75/90th percentiles, over the whole patch and its central
 *     half (42).
 *  2. 16-bin histograms of H and E optical density (32).
 *  3. RGB means, stds and 8-bin histograms (30).
 *  4. Gradient orientation histograms (8 bins, magnitude-weighted) in a 2×2 grid and 8-bin
 *     gradient-magnitude histograms, at full and half input resolution (80) — edge and fibre
 *     direction/strength (stroma is oriented, tumour nests are not).
 *  5. Uniform local binary patterns (8 neighbours, radius 1; 10 bins) at both resolutions (20)
 *     — micro-texture.
 *  6. 16 fixed random 3×3 colour filters (seeded, zero-mean), ReLU, mean and max pooled, at
 *     half resolution with stride 2 and at quarter resolution (64) — generic texture responses.
 *  7. Fractions of pixels above 4 H and 4 E optical-density thresholds (8) — nuclear and
 *     eosinophilic density.
 * Every feature is a fixed function of the pixels: same patch, same vector, on any machine.
 */
import { Rng } from "../util/random.ts";
import type { PatchSet } from "./patches.ts";

export const BUILTIN_DIM = 276;
export const BUILTIN_VERSION = "builtin-v1";

// skimage's hed_from_rgb = inv(rgb_from_hed), rgb_from_hed rows H, E, DAB (Ruifrok & Johnston).
const RGB_FROM_HED = [
  [0.65, 0.70, 0.29],
  [0.07, 0.99, 0.11],
  [0.27, 0.57, 0.78],
];
const HED_FROM_RGB = invert3(RGB_FROM_HED.map((r) => {
  const n = Math.hypot(...r);
  return r.map((v) => v / n);
}));

function invert3(m: number[][]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [
    [A / det, -(b * i - c * h) / det, (b * f - c * e) / det],
    [B / det, (a * i - c * g) / det, -(a * f - c * d) / det],
    [C / det, -(a * h - b * g) / det, (a * e - b * d) / det],
  ];
}

// Optical density lookup: OD = -log10(max(v, 1) / 255) as skimage (values clipped at 1e-6 there).
const OD = Float32Array.from(
  { length: 256 },
  (_, v) => Math.max(0, -Math.log10(Math.max(v, 1) / 255)),
);

const FILTERS = (() => {
  const rng = new Rng(20240917);
  return Array.from({ length: 16 }, () => {
    const w = Float32Array.from({ length: 27 }, () => rng.normal());
    const mean = w.reduce((a, b) => a + b) / 27;
    const norm = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0));
    return w.map((v) => (v - mean) / norm);
  });
})();

// Uniform LBP code (0..8 = number of ones for uniform patterns, 9 = non-uniform).
const LBP_BIN = Uint8Array.from({ length: 256 }, (_, p) => {
  let transitions = 0;
  for (let k = 0; k < 8; k++) transitions += ((p >> k) & 1) !== ((p >> ((k + 1) % 8)) & 1) ? 1 : 0;
  if (transitions > 2) return 9;
  let ones = 0;
  for (let k = 0; k < 8; k++) ones += (p >> k) & 1;
  return ones;
});

/**
 * Percentiles through a 1024-bin histogram over [0, 3] optical density (resolution 0.003),
 * several times faster than sorting every patch's pixels, and exact enough for a descriptor.
 */
const PCT_BINS = 1024, PCT_MAX = 3;
const pctCounts = new Int32Array(PCT_BINS);
function percentiles(v: Float32Array, qs: number[]): number[] {
  pctCounts.fill(0);
  for (let i = 0; i < v.length; i++) {
    pctCounts[Math.min(PCT_BINS - 1, (v[i] * (PCT_BINS / PCT_MAX)) | 0)]++;
  }
  const out: number[] = [];
  let cum = 0, b = 0;
  for (const q of qs) {
    const rank = Math.floor(q * (v.length - 1)) + 1;
    while (b < PCT_BINS && cum + pctCounts[b] < rank) cum += pctCounts[b++];
    out.push(((b + 0.5) * PCT_MAX) / PCT_BINS);
  }
  return out;
}

function meanStd(v: ArrayLike<number>): [number, number] {
  let m = 0;
  for (let i = 0; i < v.length; i++) m += v[i];
  m /= v.length;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] - m) ** 2;
  return [m, Math.sqrt(s / v.length)];
}

function histogram(
  v: ArrayLike<number>,
  bins: number,
  lo: number,
  hi: number,
  out: number[],
): void {
  const h = new Float64Array(bins);
  for (let i = 0; i < v.length; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(((v[i] - lo) / (hi - lo)) * bins)));
    h[b]++;
  }
  for (const x of h) out.push(x / v.length);
}

/** Gradient features (32 + 8) and LBP (10) of a grayscale image of side s. */
function textureFeatures(gray: Float32Array, s: number, out: number[]): void {
  const orient = new Float64Array(32), magHist = new Float64Array(8);
  let total = 0;
  const lbp = new Float64Array(10);
  for (let y = 1; y < s - 1; y++) {
    for (let x = 1; x < s - 1; x++) {
      const o = y * s + x;
      const nw = gray[o - s - 1], n = gray[o - s], ne = gray[o - s + 1];
      const w = gray[o - 1], c = gray[o], e = gray[o + 1];
      const sw = gray[o + s - 1], so = gray[o + s], se = gray[o + s + 1];
      const gx = ne + 2 * e + se - nw - 2 * w - sw;
      const gy = sw + 2 * so + se - nw - 2 * n - ne;
      const mag = Math.sqrt(gx * gx + gy * gy);
      // Unsigned orientation in [0, π), 8 bins of π/8, from tangent thresholds (no atan2).
      let ux = gx, uy = gy;
      if (uy < 0 || (uy === 0 && ux < 0)) {
        ux = -ux;
        uy = -uy;
      }
      const ax = ux < 0 ? -ux : ux;
      const k = uy < 0.41421356 * ax ? 0 : uy < ax ? 1 : uy < 2.41421356 * ax ? 2 : 3;
      const b = ux > 0 ? k : 7 - k;
      const cell = (y < s / 2 ? 0 : 2) + (x < s / 2 ? 0 : 1);
      orient[cell * 8 + b] += mag;
      total += mag;
      magHist[Math.min(7, (mag * 4) | 0)]++; // 8 bins over [0, 2]
      const code = (nw >= c ? 1 : 0) | (n >= c ? 2 : 0) | (ne >= c ? 4 : 0) | (e >= c ? 8 : 0) |
        (se >= c ? 16 : 0) | (so >= c ? 32 : 0) | (sw >= c ? 64 : 0) | (w >= c ? 128 : 0);
      lbp[LBP_BIN[code]]++;
    }
  }
  const count = (s - 2) * (s - 2);
  for (const o of orient) out.push(total > 0 ? o / total : 0);
  for (const m of magHist) out.push(m / count);
  for (const l of lbp) out.push(l / count);
}

/** Random-filter responses (16 mean + 16 max) of an RGB image (values centred) with a stride. */
function convFeatures(rgb: Float32Array, s: number, stride: number, out: number[]): void {
  const mean = new Float64Array(16), max = new Float64Array(16);
  let count = 0;
  for (let y = 1; y < s - 1; y += stride) {
    for (let x = 1; x < s - 1; x += stride) {
      count++;
      for (let f = 0; f < 16; f++) {
        const w = FILTERS[f];
        let acc = 0, k = 0;
        for (let dy = -1; dy <= 1; dy++) {
          const row = ((y + dy) * s + x - 1) * 3;
          for (let j = 0; j < 9; j++) acc += w[k++] * rgb[row + j];
        }
        if (acc > 0) {
          mean[f] += acc;
          if (acc > max[f]) max[f] = acc;
        }
      }
    }
  }
  for (let f = 0; f < 16; f++) out.push(mean[f] / count);
  for (let f = 0; f < 16; f++) out.push(max[f]);
}

/** Encodes one patch (side s, RGB bytes at `offset`) into `BUILTIN_DIM` features. */
export function encodePatch(data: Uint8Array, offset: number, s: number): Float32Array {
  const n = s * s;
  const h = new Float32Array(n), e = new Float32Array(n), r = new Float32Array(n);
  const gray = new Float32Array(n), rgb = new Float32Array(n * 3);
  const chan = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  const [[m00, m01, m02], [m10, m11, m12], [m20, m21, m22]] = HED_FROM_RGB;
  for (let p = 0; p < n; p++) {
    const R = data[offset + 3 * p], G = data[offset + 3 * p + 1], B = data[offset + 3 * p + 2];
    const oR = OD[R], oG = OD[G], oB = OD[B];
    const hv = oR * m00 + oG * m10 + oB * m20,
      ev = oR * m01 + oG * m11 + oB * m21,
      rv = oR * m02 + oG * m12 + oB * m22;
    h[p] = hv > 0 ? hv : 0;
    e[p] = ev > 0 ? ev : 0;
    r[p] = rv > 0 ? rv : 0;
    gray[p] = (0.299 * R + 0.587 * G + 0.114 * B) / 255;
    rgb[3 * p] = R / 255 - 0.5;
    rgb[3 * p + 1] = G / 255 - 0.5;
    rgb[3 * p + 2] = B / 255 - 0.5;
    chan[0][p] = R;
    chan[1][p] = G;
    chan[2][p] = B;
  }
  const out: number[] = [];
  const q = [0.1, 0.25, 0.5, 0.75, 0.9];
  // 1. stain statistics, whole patch and central half.
  const c0 = Math.floor(s / 4), c1 = c0 + Math.floor(s / 2);
  const centre = (v: Float32Array) => {
    const o = new Float32Array((c1 - c0) * (c1 - c0));
    let k = 0;
    for (let y = c0; y < c1; y++) for (let x = c0; x < c1; x++) o[k++] = v[y * s + x];
    return o;
  };
  for (const region of [(v: Float32Array) => v, centre]) {
    for (const v of [h, e, r]) {
      const rv = region(v);
      out.push(...meanStd(rv), ...percentiles(rv, q));
    }
  }
  // 2. stain histograms.
  histogram(h, 16, 0, 1.6, out);
  histogram(e, 16, 0, 1.6, out);
  // 3. colour.
  for (const c of chan) out.push(...meanStd(c).map((v) => v / 255));
  for (const c of chan) histogram(c, 8, 0, 256, out);
  // 4–5. texture at full and half resolution.
  const half = s >> 1;
  const gray2 = new Float32Array(half * half), rgb2 = new Float32Array(half * half * 3);
  for (let y = 0; y < half; y++) {
    for (let x = 0; x < half; x++) {
      const a = 2 * y * s + 2 * x;
      gray2[y * half + x] = (gray[a] + gray[a + 1] + gray[a + s] + gray[a + s + 1]) / 4;
      for (let c = 0; c < 3; c++) {
        rgb2[(y * half + x) * 3 + c] =
          (rgb[3 * a + c] + rgb[3 * (a + 1) + c] + rgb[3 * (a + s) + c] +
            rgb[3 * (a + s + 1) + c]) / 4;
      }
    }
  }
  const tex: number[] = [], tex2: number[] = [];
  textureFeatures(gray, s, tex);
  textureFeatures(gray2, half, tex2);
  out.push(...tex.slice(0, 40), ...tex2.slice(0, 40), ...tex.slice(40), ...tex2.slice(40));
  // 6. random filters (at half resolution, stride 2, and quarter resolution, stride 1).
  const quarter = half >> 1;
  const rgb4 = new Float32Array(quarter * quarter * 3);
  for (let y = 0; y < quarter; y++) {
    for (let x = 0; x < quarter; x++) {
      const a = 2 * y * half + 2 * x;
      for (let c = 0; c < 3; c++) {
        rgb4[(y * quarter + x) * 3 + c] =
          (rgb2[3 * a + c] + rgb2[3 * (a + 1) + c] + rgb2[3 * (a + half) + c] +
            rgb2[3 * (a + half + 1) + c]) / 4;
      }
    }
  }
  convFeatures(rgb2, half, 2, out);
  convFeatures(rgb4, quarter, 1, out);
  // 7. stain density fractions.
  for (const [v, ts] of [[h, [0.3, 0.5, 0.8, 1.2]], [e, [0.2, 0.35, 0.5, 0.7]]] as const) {
    for (const t of ts) {
      let k = 0;
      for (let p = 0; p < n; p++) if (v[p] > t) k++;
      out.push(k / n);
    }
  }
  if (out.length !== BUILTIN_DIM) {
    throw new Error(`built-in encoder produced ${out.length} features, expected ${BUILTIN_DIM}`);
  }
  return Float32Array.from(out);
}

/** Encodes a patch set on the calling thread: n × BUILTIN_DIM, row-major. */
export function encodeBuiltin(p: PatchSet): Float32Array {
  const out = new Float32Array(p.n * BUILTIN_DIM);
  const stride = p.size * p.size * 3;
  for (let i = 0; i < p.n; i++) out.set(encodePatch(p.data, i * stride, p.size), i * BUILTIN_DIM);
  return out;
}

/**
 * A pool of workers (one per core by default) encoding patch sets in parallel; results are
 * identical to `encodeBuiltin` (each patch's features depend on that patch alone).
 * Call `close()` when done, or the workers keep the process alive.
 */
export class BuiltinEncoderPool {
  private workers: Worker[];
  private nextId = 0;
  private pending = new Map<number, (out: Float32Array) => void>();

  constructor(readonly size = navigator.hardwareConcurrency || 1) {
    this.workers = Array.from({ length: Math.max(1, size) }, () => {
      const w = new Worker(new URL("./builtin_worker.ts", import.meta.url), { type: "module" });
      w.onmessage = (ev: MessageEvent<{ id: number; out: Float32Array }>) => {
        this.pending.get(ev.data.id)!(ev.data.out);
        this.pending.delete(ev.data.id);
      };
      return w;
    });
  }

  async encode(p: Pick<PatchSet, "n" | "size" | "data">): Promise<Float32Array> {
    const stride = p.size * p.size * 3;
    const per = Math.ceil(p.n / this.workers.length);
    const parts = await Promise.all(this.workers.map((w, k) => {
      const lo = k * per, hi = Math.min(p.n, lo + per);
      if (hi <= lo) return Promise.resolve(new Float32Array(0));
      const id = this.nextId++;
      const data = p.data.slice(lo * stride, hi * stride);
      return new Promise<Float32Array>((resolve) => {
        this.pending.set(id, resolve);
        w.postMessage({ id, data, n: hi - lo, size: p.size }, [data.buffer]);
      });
    }));
    const out = new Float32Array(p.n * BUILTIN_DIM);
    let off = 0;
    for (const part of parts) {
      out.set(part, off);
      off += part.length;
    }
    return out;
  }

  close(): void {
    for (const w of this.workers) w.terminate();
  }
}
