/**
 * Differential expression (tumour vs non-tumour spots) and over-representation analysis
 * (evaluation.md, "Differential expression and enrichment"): per gene a Wilcoxon rank-sum
 * (Mann–Whitney U, scipy 1.10 defaults) test, log fold change and BH-adjusted p; significant genes
 * tested for over-representation in gene sets by the hypergeometric test, universe = the genes
 * tested. Gene sets come from GMT files or the GO CSV exports of g:Profiler; results export as CSV,
 * plain gene lists for g:Profiler / Enrichr, and GMT.
 */
import { DataError } from "../errors.ts";
import { readBytes } from "../io/files.ts";
import { benjaminiHochberg, mannWhitneyU } from "./stats.ts";
import { splitCsvLine } from "../io/csv.ts";
import { type Frame, frameOf } from "../table/frame.ts";

export interface DeRow {
  gene: string;
  /** Mann–Whitney U of group A (tumour) against group B. */
  statistic: number;
  pValue: number;
  padj: number;
  /** log2((mean A + ε) / (mean B + ε)) on the values given (ε = 1e-9). */
  log2FoldChange: number;
  meanA: number;
  meanB: number;
}

/** Rank-sum test per gene between spots in group A and group B (row-major n × G values). */
export function differentialExpression(
  values: ArrayLike<number>,
  G: number,
  genes: string[],
  inA: boolean[],
  inB: boolean[],
): DeRow[] {
  const a = inA.flatMap((v, i) => (v ? [i] : [])), b = inB.flatMap((v, i) => (v ? [i] : []));
  if (a.length === 0 || b.length === 0) {
    throw new DataError(
      `differential expression needs spots in both groups (A ${a.length}, B ${b.length})`,
    );
  }
  const rows = genes.map((gene, g) => {
    const xa = a.map((i) => values[i * G + g]), xb = b.map((i) => values[i * G + g]);
    const meanA = xa.reduce((s, v) => s + v, 0) / xa.length,
      meanB = xb.reduce((s, v) => s + v, 0) / xb.length;
    const constant = xa.concat(xb).every((v) => v === xa[0]);
    const t = constant ? { statistic: NaN, pValue: NaN } : mannWhitneyU(xa, xb);
    return {
      gene,
      statistic: t.statistic,
      pValue: t.pValue,
      padj: NaN,
      log2FoldChange: Math.log2((meanA + 1e-9) / (meanB + 1e-9)),
      meanA,
      meanB,
    };
  });
  benjaminiHochberg(rows.map((r) => r.pValue)).forEach((q, i) => (rows[i].padj = q));
  return rows.sort((x, y) =>
    (Number.isNaN(x.pValue) ? 1 : 0) - (Number.isNaN(y.pValue) ? 1 : 0) || x.pValue - y.pValue
  );
}

/** ln Γ(x) (Lanczos, g = 7, n = 9; ~1e-15 relative) for the hypergeometric tail. */
function lnGamma(x: number): number {
  const c = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}
const lnChoose = (n: number, k: number) => lnGamma(n + 1) - lnGamma(k + 1) - lnGamma(n - k + 1);

/** P(X ≥ k) for X ~ Hypergeometric(population N, K successes, n draws). */
export function hypergeometricSf(k: number, N: number, K: number, n: number): number {
  const hi = Math.min(n, K);
  if (k <= Math.max(0, n - (N - K))) return 1;
  let p = 0;
  for (let i = k; i <= hi; i++) {
    p += Math.exp(lnChoose(K, i) + lnChoose(N - K, n - i) - lnChoose(N, n));
  }
  return Math.min(1, p);
}

export interface GeneSet {
  name: string;
  description: string;
  genes: string[];
}

/** Reads a GMT file: name<TAB>description<TAB>gene…, one set per line. */
export function readGmt(path: string): GeneSet[] {
  const text = new TextDecoder().decode(readBytes(path, "GMT file"));
  const sets: GeneSet[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return;
    const f = line.split("\t");
    if (f.length < 3) {
      throw new DataError(
        `has ${f.length} fields, expected name, description and at least one gene`,
        { file: path, line: i + 1 },
      );
    }
    sets.push({
      name: f[0],
      description: f[1],
      genes: [...new Set(f.slice(2).filter((g) => g !== ""))],
    });
  });
  return sets;
}

/** Reads a g:Profiler GO CSV export (columns initial_alias, name, …) as one gene set per GO term. */
export function readGoCsv(path: string): GeneSet[] {
  const lines = new TextDecoder().decode(readBytes(path, "GO CSV")).split(/\r?\n/).filter((l) =>
    l.trim() !== ""
  );
  if (lines.length === 0) {
    throw new DataError("file is empty, expected a header line", { file: path });
  }
  const header = splitCsvLine(lines[0]);
  const term = header.indexOf("initial_alias"), name = header.indexOf("name");
  if (term < 0 || name < 0) {
    throw new DataError(`expected columns initial_alias and name (found ${header.join(", ")})`, {
      file: path,
      line: 1,
    });
  }
  const by = new Map<string, Set<string>>();
  lines.slice(1).forEach((l, i) => {
    const r = splitCsvLine(l);
    if (r.length !== header.length) {
      throw new DataError(`has ${r.length} fields, expected ${header.length}`, {
        file: path,
        line: i + 2,
      });
    }
    (by.get(r[term]) ?? by.set(r[term], new Set()).get(r[term])!).add(r[name]);
  });
  return [...by].map(([n, g]) => ({ name: n, description: "", genes: [...g] }));
}

/** GMT text of gene sets. */
export function writeGmt(sets: GeneSet[]): string {
  return sets.map((s) => [s.name, s.description, ...s.genes].join("\t")).join("\n") + "\n";
}

export interface EnrichmentRow {
  set: string;
  overlap: number;
  setSize: number;
  /** Query genes in the universe. */
  querySize: number;
  universe: number;
  pValue: number;
  padj: number;
  genes: string[];
}

/** Over-representation (one-sided hypergeometric) of `query` genes in each set, within `universe`. */
export function overRepresentation(
  query: string[],
  universe: string[],
  sets: GeneSet[],
  minSize = 1,
): EnrichmentRow[] {
  const U = new Set(universe);
  const q = [...new Set(query)].filter((g) => U.has(g));
  const rows = sets.map((s) => {
    const inU = s.genes.filter((g) => U.has(g));
    const hits = q.filter((g) => inU.includes(g));
    return {
      set: s.name,
      overlap: hits.length,
      setSize: inU.length,
      querySize: q.length,
      universe: U.size,
      pValue: inU.length >= minSize
        ? hypergeometricSf(hits.length, U.size, inU.length, q.length)
        : NaN,
      padj: NaN,
      genes: hits,
    };
  }).filter((r) => r.setSize >= minSize);
  benjaminiHochberg(rows.map((r) => r.pValue)).forEach((v, i) => (rows[i].padj = v));
  return rows.sort((a, b) => a.pValue - b.pValue);
}

/** A gene list ready to paste into g:Profiler or Enrichr (one symbol per line). */
export function geneList(genes: string[]): string {
  return genes.join("\n") + "\n";
}

/** Reads gene sets from a `.gmt` file, a GO `.csv` export, or a folder of those. */
export function readGeneSets(path: string): GeneSet[] {
  let stat: Deno.FileInfo;
  try {
    stat = Deno.statSync(path);
  } catch {
    throw new DataError("gene-set file not found (expected .gmt, GO .csv, or a folder of them)", {
      file: path,
    });
  }
  if (stat.isDirectory) {
    const files = [...Deno.readDirSync(path)].filter((e) => /\.(gmt|csv)$/i.test(e.name))
      .map((e) => `${path}/${e.name}`).sort();
    if (!files.length) {
      throw new DataError("folder holds no .gmt or .csv gene sets", { file: path });
    }
    return files.flatMap(readGeneSets);
  }
  if (/\.gmt$/i.test(path)) return readGmt(path);
  if (/\.csv$/i.test(path)) return readGoCsv(path);
  throw new DataError("unknown gene-set format; expected a .gmt or a GO .csv file", { file: path });
}

/**
 * How much of the gene sets the analysis can see: set genes outside the universe (the genes
 * tested) cannot be hits and are left out of the hypergeometric counts — said here, not hidden.
 */
export function geneSetCoverage(
  sets: GeneSet[],
  universe: string[],
  minSize = 1,
): {
  setGenes: number;
  inUniverse: number;
  unknown: number;
  setsKept: number;
  setsDropped: number;
} {
  const U = new Set(universe);
  const all = new Set(sets.flatMap((s) => s.genes));
  const inU = [...all].filter((g) => U.has(g)).length;
  const kept = sets.filter((s) => s.genes.filter((g) => U.has(g)).length >= minSize).length;
  return {
    setGenes: all.size,
    inUniverse: inU,
    unknown: all.size - inU,
    setsKept: kept,
    setsDropped: sets.length - kept,
  };
}

export interface TumourEnrichmentOptions {
  /** Labels counted as tumour (default: HER2+ "invasive cancer", "cancer in situ"). */
  tumourLabels?: string[];
  /** Labels left out of both groups (default "undetermined"); unlabelled spots are left out too. */
  excludeLabels?: string[];
  /** Adjusted-p cut for DE genes and enriched sets (default 0.05). */
  q?: number;
  /** Smallest set size within the universe (default 5). */
  minSetSize?: number;
}

/** One side's result; the tables are DataFrames with `DeRow` / `EnrichmentRow` columns. */
export interface SourceEnrichment {
  /** Per gene (columns of `DeRow`), in the order of the genes tested. */
  de: Frame;
  significant: string[];
  /** Per tested set (columns of `EnrichmentRow`), most significant first. */
  enrichment: Frame;
}

const DE_COLUMNS = ["gene", "statistic", "pValue", "padj", "log2FoldChange", "meanA", "meanB"];
const ENRICHMENT_COLUMNS = [
  "set",
  "overlap",
  "setSize",
  "querySize",
  "universe",
  "pValue",
  "padj",
  "genes",
];

export interface TumourEnrichment {
  tumourSpots: number;
  otherSpots: number;
  excludedSpots: number;
  predicted: SourceEnrichment;
  measured: SourceEnrichment;
  /** DE genes significant in both. */
  overlap: string[];
  coverage: ReturnType<typeof geneSetCoverage>;
  notes: string[];
}

/**
 * Tumour vs non-tumour on one slice, on predicted and on measured expression (same spots and
 * genes): rank-sum DE with BH, then over-representation of the significant genes in `sets`
 * (universe = genes tested). The measured side is the reference the prediction is judged by.
 */
export function tumourEnrichment(
  predicted: ArrayLike<number>,
  measured: ArrayLike<number>,
  genes: string[],
  labels: (string | null)[],
  sets: GeneSet[],
  o: TumourEnrichmentOptions = {},
): TumourEnrichment {
  const tumour = new Set(o.tumourLabels ?? ["invasive cancer", "cancer in situ"]);
  const exclude = new Set(o.excludeLabels ?? ["undetermined"]);
  const q = o.q ?? 0.05, minSize = o.minSetSize ?? 5;
  const usable = labels.map((l) => l !== null && !exclude.has(l));
  const inA = labels.map((l, i) => usable[i] && tumour.has(l!));
  const inB = labels.map((l, i) => usable[i] && !tumour.has(l!));
  const run = (x: ArrayLike<number>): SourceEnrichment => {
    const de = differentialExpression(x, genes.length, genes, inA, inB);
    const significant = de.filter((r) => r.padj < q).map((r) => r.gene);
    return {
      de: frameOf(de, DE_COLUMNS),
      significant,
      enrichment: frameOf(
        overRepresentation(significant, genes, sets, minSize),
        ENRICHMENT_COLUMNS,
      ),
    };
  };
  const p = run(predicted), m = run(measured);
  const mSet = new Set(m.significant);
  const coverage = geneSetCoverage(sets, genes, minSize);
  const excluded = usable.filter((u) => !u).length;
  const notes = [
    `${excluded} spots without a usable label left out (unlabelled or ${[...exclude].join(", ")})`,
    `gene sets: ${coverage.setGenes} distinct genes, ${coverage.unknown} not among the ${genes.length} genes tested (cannot be hits; left out of the counts); ${coverage.setsDropped} of ${sets.length} sets have < ${minSize} tested genes and are not tested`,
  ];
  return {
    tumourSpots: inA.filter(Boolean).length,
    otherSpots: inB.filter(Boolean).length,
    excludedSpots: excluded,
    predicted: p,
    measured: m,
    overlap: p.significant.filter((g) => mSet.has(g)),
    coverage,
    notes,
  };
}
