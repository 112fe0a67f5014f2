/**
 * Reader for the HER2-positive breast cancer legacy-ST dataset (Andersson et al., Nat. Commun.
 * 2021) in the layout of its public repository, almaan/her2st (`data/` and
 * `res/ST-cluster/lbl`):
 *
 *   ST-cnts/{section}.tsv.gz                 spots × genes counts, spot id "{x}x{y}"
 *   ST-spotfiles/{section}_selection.tsv     x y new_x new_y pixel_x pixel_y selected
 *   ST-imgs/{patient}/{section}/*.jpg        full-resolution H&E
 *   ST-imgs-lowres/{patient}/{section}/*.png downscaled H&E (A1 here)
 *   ST-pat/lbl/{section}_labeled_coordinates.tsv   pathologist labels
 *   ST-cluster/lbl/{section}-cluster-annotation.tsv.gz   expression-cluster labels
 *
 * Counts are joined to the spot file on the array id "{round(x)}x{round(y)}" keeping the
 * count file's row order (the HisToGene/Hist2ST convention); whatever the join drops on either
 * side is reported as a warning with its count.
 */
import { join } from "node:path";
import { DataError, WarningLog } from "../errors.ts";
import {
  type Dataset,
  type Slice,
  type SliceImage,
  uniqueGeneNames,
  validateSlice,
} from "../data/slice.ts";
import { column, exists, numberField, parseTable, readBytes, readMaybeGzip } from "./files.ts";
import { parseCountTable } from "./count_table.ts";

export const HER2ST_SOURCE =
  "almaan/her2st (Andersson et al., Nat. Commun. 2021), data/ and res/ST-cluster/lbl";

/**
 * Full-resolution width (px) of sections whose only image is a downscaled one, so spot pixel
 * coordinates can be mapped into it. A1: the 2000-px-wide `A1_HE_image_dark.png` was made from
 * a 6954-px-wide original (scale 2000/6954 ≈ 0.2876, per the dataset's README).
 */
const FULL_RES_WIDTH: Record<string, number> = { A1: 6954 };

/** Sections present in `root/ST-cnts`, sorted (A1, A2, …, H3). */
export function listHer2stSections(root: string): string[] {
  const dir = join(root, "ST-cnts");
  if (!exists(dir)) {
    throw new DataError(
      "no ST-cnts/ folder: not a HER2+ data directory (expected the layout of almaan/her2st's data/; run `deno task spahgc data fetch her2st`)",
      { file: dir },
    );
  }
  const names = [...Deno.readDirSync(dir)]
    .filter((e) => e.isFile && /\.tsv(\.gz)?$/.test(e.name))
    .map((e) => e.name.replace(/\.tsv(\.gz)?$/, ""))
    .sort();
  if (names.length === 0) throw new DataError("no count files (*.tsv.gz) found", { file: dir });
  return names;
}

function firstFile(dir: string, pattern: RegExp): string | undefined {
  if (!exists(dir)) return undefined;
  const hits = [...Deno.readDirSync(dir)].filter((e) => e.isFile && pattern.test(e.name)).map((e) =>
    e.name
  ).sort();
  return hits.length ? join(dir, hits[0]) : undefined;
}

/** Finds the H&E image of a section: full resolution if present, else a known downscaled one. */
export function findHer2stImage(root: string, section: string): SliceImage | undefined {
  const patient = section[0];
  const full = firstFile(join(root, "ST-imgs", patient, section), /\.(jpe?g|tiff?|png)$/i);
  if (full) return { path: full, scale: 1 };
  const low = firstFile(join(root, "ST-imgs-lowres", patient, section), /\.(png|jpe?g)$/i);
  if (low && FULL_RES_WIDTH[section]) {
    // The scale is fixed by the known widths; the image's own width is checked when it is opened.
    return { path: low, scale: 2000 / FULL_RES_WIDTH[section] };
  }
  return undefined;
}

const arrayId = (x: number, y: number) => `${Math.round(x)}x${Math.round(y)}`;

/** Reads one section: counts joined to its spot file, image path, pathologist and cluster labels. */
export function readHer2stSection(root: string, section: string, log = new WarningLog()): Slice {
  const cntPath =
    [join(root, "ST-cnts", `${section}.tsv.gz`), join(root, "ST-cnts", `${section}.tsv`)]
      .find(exists) ?? join(root, "ST-cnts", `${section}.tsv.gz`);
  const table = parseCountTable(readMaybeGzip(cntPath, "count file"), cntPath);
  if (table.rowNames.length === 0) {
    throw new DataError("section has no spots (no count rows)", { file: cntPath });
  }

  // Spot file: spots under tissue and their pixel coordinates.
  const spotPath = join(root, "ST-spotfiles", `${section}_selection.tsv`);
  const st = parseTable(new TextDecoder().decode(readBytes(spotPath, "spot file")), spotPath, "\t");
  const [cx, cy, cpx, cpy] = ["x", "y", "pixel_x", "pixel_y"].map((c) => column(st, c));
  const cSel = st.header.indexOf("selected");
  const spotIndex = new Map<string, number>();
  let unselected = 0;
  for (let r = 0; r < st.rows.length; r++) {
    if (cSel >= 0 && numberField(st, r, cSel) !== 1) {
      unselected++;
      continue;
    }
    const id = arrayId(numberField(st, r, cx), numberField(st, r, cy));
    if (spotIndex.has(id)) {
      throw new DataError(
        `spot ${id} appears twice (first on line ${st.lines[spotIndex.get(id)!]})`,
        {
          file: spotPath,
          line: st.lines[r],
          spot: id,
        },
      );
    }
    spotIndex.set(id, r);
  }
  if (unselected) {
    log.warn(`${unselected} spot(s) with selected != 1 were left out`, { file: spotPath });
  }

  // Inner join, count-file order.
  const keepRows: number[] = [];
  const seen = new Set<string>();
  const missingInSpotFile: string[] = [];
  for (let i = 0; i < table.rowNames.length; i++) {
    const id = table.rowNames[i];
    if (seen.has(id)) {
      throw new DataError("spot id appears twice in the count file", { file: cntPath, spot: id });
    }
    seen.add(id);
    if (spotIndex.has(id)) keepRows.push(i);
    else missingInSpotFile.push(id);
  }
  if (keepRows.length === 0) {
    throw new DataError(
      `no count row matches a spot of ${spotPath} (count ids look like '${
        table.rowNames[0]
      }', expected "{x}x{y}")`,
      { file: cntPath },
    );
  }
  if (missingInSpotFile.length) {
    log.warn(
      `join dropped ${missingInSpotFile.length} of ${table.rowNames.length} count rows with no spot in ${spotPath} (e.g. ${
        missingInSpotFile.slice(0, 3).join(", ")
      })`,
      { file: cntPath },
    );
  }
  const unmatchedSpots = spotIndex.size - keepRows.length;
  if (unmatchedSpots > 0) {
    log.warn(
      `join dropped ${unmatchedSpots} of ${spotIndex.size} selected spots with no count row`,
      { file: spotPath },
    );
  }

  const spots = keepRows.map((i) => table.rowNames[i]);
  const n = spots.length;
  const array = { x: new Float64Array(n), y: new Float64Array(n) };
  const pixel = { x: new Float64Array(n), y: new Float64Array(n) };
  spots.forEach((id, i) => {
    const r = spotIndex.get(id)!;
    array.x[i] = numberField(st, r, cx);
    array.y[i] = numberField(st, r, cy);
    pixel.x[i] = numberField(st, r, cpx);
    pixel.y[i] = numberField(st, r, cpy);
  });

  const geneNames = uniqueGeneNames(table.colNames, cntPath, log);

  const labels: Record<string, (string | null)[]> = {};
  const pat = readPathologistLabels(root, section, spots, log);
  if (pat) labels.pathologist = pat;
  const clu = readClusterLabels(root, section, spots, log);
  if (clu) labels.cluster = clu;

  const slice: Slice = {
    name: section,
    patient: section[0],
    counts: keepRows.length === table.rowNames.length
      ? table.counts
      : table.counts.selectRows(keepRows),
    genes: geneNames,
    spots,
    array,
    pixel,
    image: findHer2stImage(root, section),
    labels,
  };
  validateSlice(slice);
  return slice;
}

/** Pathologist labels joined on rounded array x/y (the label file's pixel frame differs). */
function readPathologistLabels(root: string, section: string, spots: string[], log: WarningLog) {
  const path = join(root, "ST-pat", "lbl", `${section}_labeled_coordinates.tsv`);
  if (!exists(path)) return undefined;
  const t = parseTable(new TextDecoder().decode(readBytes(path, "label file")), path, "\t");
  const [cx, cy, cl] = ["x", "y", "label"].map((c) => column(t, c));
  const byId = new Map<string, string>();
  let noCoords = 0;
  t.rows.forEach((row, r) => {
    if (row[cx] === "NA" || row[cy] === "NA") {
      noCoords++;
      return;
    }
    byId.set(arrayId(numberField(t, r, cx), numberField(t, r, cy)), row[cl]);
  });
  if (noCoords) {
    log.warn(`${noCoords} label row(s) without coordinates (NA) were left out`, { file: path });
  }
  const out = spots.map((id) => byId.get(id) ?? null);
  const missing = out.filter((v) => v === null).length;
  if (missing) {
    log.warn(`${missing} of ${spots.length} spots have no pathologist label`, { file: path });
  }
  return out;
}

/** Expression-cluster labels of the original study, joined on integer array x/y. */
function readClusterLabels(root: string, section: string, spots: string[], log: WarningLog) {
  const path = join(root, "ST-cluster", "lbl", `${section}-cluster-annotation.tsv.gz`);
  const alt = path.replace(/\.gz$/, "");
  const file = exists(path) ? path : exists(alt) ? alt : undefined;
  if (!file) return undefined;
  const t = parseTable(new TextDecoder().decode(readMaybeGzip(file, "cluster file")), file, "\t");
  const [cx, cy, cl] = ["x", "y", "label"].map((c) => column(t, c));
  const byId = new Map<string, string>();
  t.rows.forEach((row, r) =>
    byId.set(arrayId(numberField(t, r, cx), numberField(t, r, cy)), row[cl])
  );
  const out = spots.map((id) => byId.get(id) ?? null);
  const missing = out.filter((v) => v === null).length;
  if (missing) log.warn(`${missing} of ${spots.length} spots have no cluster label`, { file });
  return out;
}

export interface Her2stOptions {
  /** Subset of sections (default: all in ST-cnts). */
  sections?: string[];
  log?: WarningLog;
}

/** Reads the HER2+ dataset (all 36 sections by default). */
export function readHer2st(root: string, opts: Her2stOptions = {}): Dataset {
  const log = opts.log ?? new WarningLog();
  const available = listHer2stSections(root);
  const sections = opts.sections ?? available;
  for (const s of sections) {
    if (!available.includes(s)) {
      throw new DataError(`section '${s}' not found (available: ${available.join(", ")})`, {
        file: join(root, "ST-cnts"),
      });
    }
  }
  const slices = sections.map((s) => readHer2stSection(root, s, log));
  return {
    name: "her2st",
    slices,
    provenance: {
      source: HER2ST_SOURCE,
      location: root,
      reader: "readHer2st",
      params: { sections },
      warnings: log.warnings,
    },
  };
}
