/**
 * The embedded default data: a deterministic synthetic spatial-transcriptomics cohort that
 * ships with the code (nothing to download), so the quick-start, notebooks and tests run
 * anywhere.
 *
 * What it models, and why:
 * - Three spatial domains (tumour-, stroma- and immune-like) laid out as smooth fields over a
 *   legacy-ST-style integer spot grid inside an elliptical tissue outline. Sections of one
 *   patient share their domain geometry up to a small shift, as consecutive sections do.
 * - Counts: negative binomial (Gamma–Poisson, dispersion θ) with a log-mean made of a gene
 *   baseline, domain gene programs weighted by each spot's soft domain membership, a
 *   per-patient gene effect (batch), and a per-spot library size.
 * - H&E-like RGB images whose colour and texture follow the same domain memberships (pink
 *   fibrous stroma, purple tumour with large nuclei, dense small dark immune nuclei) with a
 *   per-patient stain tint — so expression is predictable from the image, and knowledge must
 *   transfer across patients with different staining.
 *
 * Same options, same bytes: everything derives from one seeded generator (see `Rng`).
 */
import { Rng } from "../util/random.ts";
import { CsrBuilder } from "./sparse.ts";
import type { Dataset, RgbImage, Slice } from "./slice.ts";

export const DOMAINS = ["tumour", "stroma", "immune"] as const;

/** Marker genes of each domain program (real symbols, so notebooks can show FASN/ERBB2 maps). */
export const PROGRAM_GENES: Record<(typeof DOMAINS)[number], string[]> = {
  tumour: ["ERBB2", "FASN", "KRT19", "KRT8", "EPCAM", "CDH1", "MUC1", "GATA3", "SCD", "CD24"],
  stroma: ["COL1A1", "COL1A2", "COL3A1", "FN1", "SPARC", "DCN", "LUM", "POSTN", "ACTA2", "MGP"],
  immune: ["PTPRC", "CD74", "HLA-DRA", "CD3E", "MS4A1", "IGKC", "IGHG1", "CXCL13", "LYZ", "CD52"],
};
const HOUSEKEEPING = [
  "ACTB",
  "GAPDH",
  "RPLP0",
  "B2M",
  "MALAT1",
  "EEF1A1",
  "TPT1",
  "FTL",
  "TMSB4X",
  "RPS27A",
];

export interface SyntheticOptions {
  seed?: number;
  patients?: number;
  sectionsPerPatient?: number;
  /** Spot grid is `grid × grid` before the tissue outline is applied. */
  grid?: number;
  /** Total number of genes (markers + housekeeping + anonymous `SYNnnn` genes). */
  genes?: number;
  /** Distance between neighbouring spots in image pixels. */
  spotSpacing?: number;
  /** Negative-binomial dispersion θ. */
  dispersion?: number;
  /** Mean library size (UMIs per spot). */
  meanLibrarySize?: number;
}

export const SYNTHETIC_DEFAULTS: Required<SyntheticOptions> = {
  seed: 7,
  patients: 3,
  sectionsPerPatient: 2,
  grid: 18,
  genes: 120,
  spotSpacing: 28,
  dispersion: 4,
  meanLibrarySize: 2500,
};

interface Blob {
  cx: number;
  cy: number;
  r: number;
}

function blobs(rng: Rng, n: number, grid: number, rMin: number, rMax: number): Blob[] {
  return Array.from({ length: n }, () => ({
    cx: grid * (0.2 + 0.6 * rng.uniform()),
    cy: grid * (0.2 + 0.6 * rng.uniform()),
    r: rMin + (rMax - rMin) * rng.uniform(),
  }));
}

function field(bs: Blob[], x: number, y: number): number {
  let v = 0;
  for (const b of bs) v += Math.exp(-((x - b.cx) ** 2 + (y - b.cy) ** 2) / (2 * b.r * b.r));
  return v;
}

/** Soft domain membership (softmax of the domain fields) at array position (x, y). */
function membership(geo: PatientGeometry, x: number, y: number, out: Float64Array): void {
  const t = 3.2 * field(geo.tumour, x, y);
  const im = 3.6 * field(geo.immune, x, y);
  const st = 1.0;
  const m = Math.max(t, im, st);
  const a = Math.exp(2.5 * (t - m)), b = Math.exp(2.5 * (st - m)), c = Math.exp(2.5 * (im - m));
  const z = a + b + c;
  out[0] = a / z;
  out[1] = b / z;
  out[2] = c / z;
}

interface PatientGeometry {
  tumour: Blob[];
  immune: Blob[];
  /** RGB stain tint multipliers. */
  tint: [number, number, number];
  /** Per-gene multiplicative batch effect. */
  geneEffect: Float64Array;
}

/** Generates the synthetic cohort. Deterministic in its options. */
export function generateSynthetic(options: SyntheticOptions = {}): Dataset {
  const o = { ...SYNTHETIC_DEFAULTS, ...options };
  const rng = new Rng(o.seed);

  // Genes and their programs.
  const named = [
    ...PROGRAM_GENES.tumour,
    ...PROGRAM_GENES.stroma,
    ...PROGRAM_GENES.immune,
    ...HOUSEKEEPING,
  ];
  if (o.genes < named.length) {
    throw new RangeError(`genes must be ≥ ${named.length} (the named marker genes)`);
  }
  const genes = [
    ...named,
    ...Array.from(
      { length: o.genes - named.length },
      (_, i) => `SYN${String(i + 1).padStart(3, "0")}`,
    ),
  ];
  const G = genes.length;
  const base = new Float64Array(G);
  const program = DOMAINS.map(() => new Float64Array(G)); // log-fold loading per domain
  for (let g = 0; g < G; g++) {
    base[g] = -1.5 + 0.8 * rng.normal();
    for (let d = 0; d < DOMAINS.length; d++) {
      const isMarker = PROGRAM_GENES[DOMAINS[d]].includes(genes[g]);
      // Markers: strong loading. Anonymous genes: sparse weak loadings.
      program[d][g] = isMarker
        ? 2.2 + 0.6 * rng.uniform()
        : genes[g].startsWith("SYN") && rng.uniform() < 0.25
        ? 1.2 * rng.normal()
        : 0;
    }
    if (HOUSEKEEPING.includes(genes[g])) base[g] = 2 + 0.5 * rng.uniform();
  }

  const slices: Slice[] = [];
  const m = new Float64Array(3);
  for (let p = 0; p < o.patients; p++) {
    const patient = `P${p + 1}`;
    const geo: PatientGeometry = {
      tumour: blobs(rng, 1 + rng.int(3), o.grid, o.grid * 0.1, o.grid * 0.2),
      immune: blobs(rng, 2 + rng.int(2), o.grid, o.grid * 0.08, o.grid * 0.14),
      tint: [0.9 + 0.2 * rng.uniform(), 0.85 + 0.2 * rng.uniform(), 0.9 + 0.2 * rng.uniform()],
      geneEffect: Float64Array.from({ length: G }, () => Math.exp(0.3 * rng.normal())),
    };
    for (let s = 0; s < o.sectionsPerPatient; s++) {
      // Consecutive sections: the same geometry shifted slightly.
      const shift = { x: 0.8 * rng.normal(), y: 0.8 * rng.normal() };
      const sg: PatientGeometry = {
        ...geo,
        tumour: geo.tumour.map((b) => ({ ...b, cx: b.cx + shift.x, cy: b.cy + shift.y })),
        immune: geo.immune.map((b) => ({ ...b, cx: b.cx + shift.x, cy: b.cy + shift.y })),
      };
      const ellipse = {
        cx: o.grid / 2 - 0.5,
        cy: o.grid / 2 - 0.5,
        a: o.grid * (0.42 + 0.07 * rng.uniform()),
        b: o.grid * (0.38 + 0.1 * rng.uniform()),
      };
      const spots: string[] = [];
      const ax: number[] = [], ay: number[] = [], px: number[] = [], py: number[] = [];
      const domain: string[] = [];
      const margin = 2 * o.spotSpacing;
      const builder = new CsrBuilder(G);
      const mu = new Float64Array(G);
      for (let y = 0; y < o.grid; y++) {
        for (let x = 0; x < o.grid; x++) {
          if (((x - ellipse.cx) / ellipse.a) ** 2 + ((y - ellipse.cy) / ellipse.b) ** 2 > 1) {
            continue;
          }
          membership(sg, x, y, m);
          const lib = o.meanLibrarySize * Math.exp(0.35 * rng.normal()) * (1 + 0.4 * m[0]);
          let z = 0;
          for (let g = 0; g < G; g++) {
            const eta = base[g] + m[0] * program[0][g] + m[1] * program[1][g] +
              m[2] * program[2][g];
            mu[g] = Math.exp(eta) * sg.geneEffect[g];
            z += mu[g];
          }
          for (let g = 0; g < G; g++) {
            const c = rng.negativeBinomial((lib * mu[g]) / z, o.dispersion);
            if (c > 0) builder.push(g, c);
          }
          builder.endRow();
          spots.push(`${x}x${y}`);
          ax.push(x);
          ay.push(y);
          px.push(margin + x * o.spotSpacing + (rng.uniform() - 0.5) * 2);
          py.push(margin + y * o.spotSpacing + (rng.uniform() - 0.5) * 2);
          domain.push(DOMAINS[m[0] >= m[1] && m[0] >= m[2] ? 0 : m[1] >= m[2] ? 1 : 2]);
        }
      }
      const size = 2 * margin + (o.grid - 1) * o.spotSpacing;
      const image = paintImage(rng, sg, ellipse, size, margin, o.spotSpacing);
      slices.push({
        name: `${patient}_S${s + 1}`,
        patient,
        counts: builder.build(),
        genes,
        spots,
        array: { x: Float64Array.from(ax), y: Float64Array.from(ay) },
        pixel: { x: Float64Array.from(px), y: Float64Array.from(py) },
        // A patch covers about two spot spacings, as 224 px covers ~2 spot pitches of legacy ST at full resolution.
        image: { pixels: image, scale: 1, patchAreaPx: 2 * o.spotSpacing },
        labels: { domain },
      });
    }
  }
  return {
    name: "synthetic",
    slices,
    provenance: {
      source: "generated by lib/data/synthetic.ts (embedded default data)",
      location: "generated",
      reader: "generateSynthetic",
      params: o,
      warnings: [],
    },
  };
}

/** Paints an H&E-like RGB image whose colour and texture follow the domain memberships. */
function paintImage(
  rng: Rng,
  geo: PatientGeometry,
  ellipse: { cx: number; cy: number; a: number; b: number },
  size: number,
  margin: number,
  spacing: number,
): RgbImage {
  const data = new Uint8Array(size * size * 3);
  const m = new Float64Array(3);
  // Domain base colours (RGB): tumour purple, stroma pink, immune blue-violet.
  const colours = [[158, 96, 172], [236, 168, 196], [120, 104, 178]];
  const background = [242, 240, 244];
  const toArray = (v: number) => (v - margin) / spacing;
  const inside = (ax: number, ay: number) =>
    ((ax - ellipse.cx) / (ellipse.a + 0.6)) ** 2 + ((ay - ellipse.cy) / (ellipse.b + 0.6)) ** 2 <=
      1;
  const stripePhase = rng.uniform() * Math.PI * 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const ax = toArray(x), ay = toArray(y);
      const o = (y * size + x) * 3;
      if (!inside(ax, ay)) {
        for (let c = 0; c < 3; c++) data[o + c] = background[c] - rng.int(6);
        continue;
      }
      membership(geo, ax, ay, m);
      // Stroma texture: fibrous stripes; everything: fine grain noise.
      const stripes = 14 * m[1] *
        Math.sin((x + 0.6 * y) * 0.45 + stripePhase + 2 * Math.sin(y * 0.05));
      for (let c = 0; c < 3; c++) {
        const v =
          (m[0] * colours[0][c] + m[1] * colours[1][c] + m[2] * colours[2][c]) * geo.tint[c] +
          stripes + 10 * (rng.uniform() - 0.5);
        data[o + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  // Nuclei: dark disks whose density and size depend on the domain.
  const nAttempts = Math.round((size * size) / 18);
  for (let k = 0; k < nAttempts; k++) {
    const x = rng.uniform() * size, y = rng.uniform() * size;
    const ax = toArray(x), ay = toArray(y);
    if (!inside(ax, ay)) continue;
    membership(geo, ax, ay, m);
    const density = 0.05 * m[1] + 0.35 * m[0] + 0.8 * m[2];
    if (rng.uniform() > density) continue;
    const r = m[0] > m[2] ? 1.8 + 1.6 * rng.uniform() : 0.9 + 0.8 * rng.uniform();
    const nucleus = [70 * geo.tint[0], 40 * geo.tint[1], 120 * geo.tint[2]];
    for (let dy = -Math.ceil(r); dy <= Math.ceil(r); dy++) {
      for (let dx = -Math.ceil(r); dx <= Math.ceil(r); dx++) {
        if (dx * dx + dy * dy > r * r) continue;
        const xx = Math.round(x + dx), yy = Math.round(y + dy);
        if (xx < 0 || yy < 0 || xx >= size || yy >= size) continue;
        const o = (yy * size + xx) * 3;
        for (let c = 0; c < 3; c++) {
          data[o + c] = Math.round(0.25 * data[o + c] + 0.75 * nucleus[c]);
        }
      }
    }
  }
  return { width: size, height: size, data };
}
