/**
 * The core data types: a Slice (one tissue section: counts, genes, spots, coordinates, image,
 * labels) and a Dataset (named slices + provenance). They play AnnData's role: readers produce
 * them, preprocessing and models consume them, `.h5ad` exchanges them with Python.
 */
import type { CsrMatrix } from "./sparse.ts";
import type { DataWarning, WarningLog } from "../errors.ts";

/** Per-spot 2-D coordinates, stored as two columns. */
export interface Coords {
  x: Float64Array;
  y: Float64Array;
}

/** Raw RGB pixels held in memory (synthetic data, decoded images). Row-major, 3 bytes/pixel. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * The H&E image of a slice. `scale` maps the slice's pixel coordinates (the full-resolution
 * frame) into this image: imageX = pixelX × scale (1 for full-resolution images).
 */
export interface SliceImage {
  /** File on disk (JPEG/PNG/TIFF, a pyramidal WSI), when the image comes from a file. */
  path?: string;
  /** Pixels in memory, when the image was generated or decoded already. */
  pixels?: RgbImage;
  scale: number;
  /**
   * Side of the tissue square a spot's patch should cover, in full-resolution pixels, when it
   * differs from the 224 px of 55-µm-spot data at ~0.5 µm/px (the synthetic images are drawn at
   * another magnification).
   */
  patchAreaPx?: number;
  /**
   * Patches cut already, one per spot (HEST's `patches/<id>.h5`): `rows[i]` is spot i's row in
   * the file. When set, encoders read these instead of cutting windows from the image.
   */
  patchFile?: { path: string; side: number; rows: Int32Array };
}

/** One tissue section: a spots × genes count matrix with everything known about its spots. */
export interface Slice {
  name: string;
  /** Patient (donor) id; several sections can share one. Used for leave-one-patient-out. */
  patient: string;
  /**
   * Raw counts, spots × genes, CSR — or, when `normalised` is set, values the user declared
   * log-normalised already (ln(1 + x) of library-size-normalised counts), used as they are.
   */
  counts: CsrMatrix;
  /** The values in `counts` are log-normalised, not counts: the pipeline skips its normalisation. */
  normalised?: boolean;
  genes: string[];
  spots: string[];
  /** Array-grid coordinates (legacy ST: the x/y of the spot id; Visium: array_col/array_row). */
  array: Coords;
  /** Spot centres in the full-resolution image's pixel frame. */
  pixel: Coords;
  image?: SliceImage;
  /**
   * Per-spot categorical annotations, by name (e.g. `pathologist`, `cluster`, `domain`).
   * `null` where a spot has no label.
   */
  labels: Record<string, (string | null)[]>;
}

/** Where a dataset came from and what happened while reading it. */
export interface Provenance {
  /** Human-readable source, e.g. "almaan/her2st (Andersson et al. 2021)". */
  source: string;
  /** Directory or file it was read from, or "generated". */
  location: string;
  /** Reader/generator and its parameters. */
  reader: string;
  params?: Record<string, unknown>;
  /** Everything the reader warned about (spots dropped by a join, names made unique, …). */
  warnings: DataWarning[];
}

export interface Dataset {
  name: string;
  slices: Slice[];
  provenance: Provenance;
  /**
   * Folds the data comes with (a benchmark's own splits, e.g. HEST-Benchmark's train_k/test_k):
   * what the `dataset` split cross-validates over.
   */
  folds?: { name: string; train: string[]; test: string[] }[];
  /** The genes the data is scored on, when it says (HEST-Benchmark's var_50genes.json). */
  genes?: string[];
}

/** Number of spots of a slice. */
export function nSpots(slice: Slice): number {
  return slice.counts.nRows;
}

/**
 * Makes names unique the way AnnData's `var_names_make_unique()` does: the second occurrence of
 * `X` becomes `X-1`, the third `X-2`, skipping suffixes already taken. Returns the new names and
 * the original names that were duplicated.
 *
 * @example
 * makeUnique(["A", "B", "A"]).names // ["A", "B", "A-1"]
 */
export function makeUnique(names: readonly string[]): { names: string[]; duplicated: string[] } {
  const seen = new Set(names);
  const count = new Map<string, number>();
  const out = names.slice();
  const duplicated: string[] = [];
  const first = new Set<string>();
  for (let i = 0; i < names.length; i++) {
    const n = names[i];
    if (!first.has(n)) {
      first.add(n);
      continue;
    }
    if (!count.has(n)) duplicated.push(n);
    let k = count.get(n) ?? 0;
    let candidate: string;
    do {
      k++;
      candidate = `${n}-${k}`;
    } while (seen.has(candidate));
    count.set(n, k);
    seen.add(candidate);
    out[i] = candidate;
  }
  return { names: out, duplicated };
}

/**
 * Gene names made unique as AnnData does, with one warning naming the file and the first
 * duplicated gene when anything had to change. Shared by every reader.
 */
export function uniqueGeneNames(names: readonly string[], file: string, log: WarningLog): string[] {
  const unique = makeUnique(names);
  if (unique.duplicated.length) {
    log.warn(
      `${unique.duplicated.length} duplicated gene name(s) made unique as AnnData does ('X' → 'X-1'): ${
        unique.duplicated.slice(0, 5).join(", ")
      }`,
      { file, gene: unique.duplicated[0] },
    );
  }
  return unique.names;
}

/** Checks the internal consistency of a slice; throws a RangeError naming the slice. */
export function validateSlice(s: Slice): void {
  const n = s.counts.nRows;
  const problems: string[] = [];
  if (s.spots.length !== n) problems.push(`${s.spots.length} spot ids for ${n} rows`);
  if (s.genes.length !== s.counts.nCols) {
    problems.push(`${s.genes.length} gene names for ${s.counts.nCols} columns`);
  }
  for (const [k, c] of Object.entries({ array: s.array, pixel: s.pixel })) {
    if (c.x.length !== n || c.y.length !== n) problems.push(`${k} coordinates not of length ${n}`);
  }
  for (const [k, v] of Object.entries(s.labels)) {
    if (v.length !== n) problems.push(`labels '${k}' of length ${v.length}, expected ${n}`);
  }
  if (problems.length) throw new RangeError(`slice ${s.name}: ${problems.join("; ")}`);
}
