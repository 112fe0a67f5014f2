/**
 * What every paper notebook does before and after its own work, as one call: parameters and
 * profile, the study data, a manifest, table and figure export (each with its manifest, shown in
 * the notebook), and the closing manifest. A paper notebook then reads as configuration, the
 * study calls, and what it displays.
 */
import { join } from "node:path";
import type { Figure } from "../plot/figures.ts";
import { closeRenderer, saveFigure } from "../plot/export.ts";
import { type Manifest, startManifest } from "../provenance/manifest.ts";
import { exportTable } from "../provenance/table.ts";
import type { Frame } from "../table/frame.ts";
import { display, displayTable } from "../display.ts";
import { notebookParams, type Profile } from "./params.ts";
import { figuresRoot, type StudyData, studyData } from "./study.ts";

/** Epoch budgets every paper notebook's parameters carry. */
interface EpochParams {
  /** SpaHGC's and EGGN's (the graph network). */
  epochs: number;
  /** The other trained baselines'. */
  baselineEpochs: number;
}

export interface PaperNotebook<P> {
  name: string;
  params: P & { profile: Profile };
  data: StudyData;
  /** Output folder, `figures/<name>/`. */
  out: string;
  /** Said with every table and figure (data, profile, and what the notebook adds). */
  notes: string[];
  /** Files written so far, relative to `out` (the closing manifest lists them). */
  outputs: string[];
  manifest: Manifest;
  /** The epoch budget of a method under these parameters. */
  epochsFor(method: string): number;
  /** Writes a table (CSV, Markdown, manifest) and shows it (a DataFrame, or rows that become one). */
  showTable(
    table: Frame | readonly object[],
    file: string,
    title: string,
    tableNotes?: string[],
  ): Promise<void>;
  /** Writes a figure (HTML, PNG/SVG when a browser is there, manifest) and shows it. */
  showFigure(fig: Figure, file: string, title: string): Promise<void>;
  /** Closes the renderer, writes the notebook's manifest and says what was made. */
  finish(): Promise<Manifest>;
}

/**
 * Opens a paper notebook: `declared` are its parameters' defaults and profiles (overridable by
 * `SPAHGC_PROFILE` / `SPAHGC_PARAMS`, see `notebookParams`).
 *
 * @example
 * ```ts
 * const nb = await openPaperNotebook("table2_graph_ablation", {
 *   folds: ["C2", "C5"] as string[] | undefined, epochs: 2, baselineEpochs: 5,
 *   profiles: { quick: {}, full: { folds: undefined, epochs: 200, baselineEpochs: 100 } },
 * });
 * const results = await runStudy(configs, { data: nb.data, folds: nb.params.folds });
 * await nb.showTable(measuredTable(results), "measured", "Table 2 — measured here");
 * await nb.finish();
 * ```
 */
export async function openPaperNotebook<P extends EpochParams & Record<string, unknown>>(
  name: string,
  declared: P & { profiles?: Partial<Record<Profile, Partial<P>>> },
): Promise<PaperNotebook<P>> {
  // Every paper notebook takes `dataset` (default HER2+): a registered name (`hest-lymph-node`,
  // …) or a path (a HEST-1k root with a selection query, a HEST-Benchmark task, AnnData).
  const params = notebookParams<P & { dataset: string }>(
    { dataset: "her2st", ...declared } as P & { dataset: string },
  );
  const out = join(figuresRoot(), name);
  // Notebooks write their own files there too (gene lists, …), not only through showTable.
  Deno.mkdirSync(out, { recursive: true });
  const started = startManifest(name, params);
  const data = await studyData(params.dataset);
  started.manifest.dataset = {
    name: data.dataset.name,
    slices: data.slices,
    source: data.dataset.provenance.source,
    location: data.dataset.provenance.location,
    warnings: data.dataset.provenance.warnings.length,
  };
  const outputs: string[] = [];
  const notes: string[] = [data.note, `profile: ${params.profile}`];
  // A quick profile names HER2+ test slices; another dataset (or the stand-in cohort) has
  // others: the same number of its own, said.
  const folds = (params as { folds?: unknown }).folds;
  if (Array.isArray(folds) && folds.some((f) => !data.foldNames.includes(f))) {
    const own = data.foldNames.slice(0, folds.length);
    notes.push(
      `test slices ${folds.join(", ")} are not in ${
        data.standIn ? "the stand-in cohort" : data.dataset.name
      }: ${own.join(", ")} instead`,
    );
    (params as { folds?: unknown }).folds = own;
  }
  const relativeToOut = (f: string) => f.slice(out.length + 1);
  await display(`**Data:** ${data.note}. **Profile:** ${params.profile}.`);
  return {
    name,
    params,
    data,
    out,
    notes,
    outputs,
    manifest: started.manifest,
    epochsFor: (m) => (m === "spahgc" || m === "eggn" ? params.epochs : params.baselineEpochs),
    async showTable(table, file, title, tableNotes = []) {
      const t = exportTable(table, out, file, { title, params, notes: [...notes, ...tableNotes] });
      outputs.push(...t.files.map(relativeToOut));
      await displayTable(table, { title, digits: 3 });
    },
    async showFigure(fig, file, title) {
      const files = await saveFigure(fig, out, file, { params, notes, title, show: true });
      outputs.push(...files.map(relativeToOut));
    },
    async finish() {
      await closeRenderer();
      const m = started.finish(out, outputs, notes);
      await display(
        `${name} finished: ${outputs.length} outputs in figures/${name}/ (${m.wallSeconds} s)`,
      );
      return m;
    },
  };
}
