/** Per-slice summaries of a dataset (what `spahgc data info` prints). */
import { exists } from "../io/files.ts";
import type { Dataset } from "../data/slice.ts";
import { type Frame, frameOf, markdownOf } from "../table/frame.ts";

export interface SliceSummary {
  name: string;
  patient: string;
  spots: number;
  genes: number;
  totalCounts: number;
  hasImage: boolean;
  hasLabels: boolean;
  /** Names of the label sets present (e.g. pathologist, cluster, domain). */
  labelSets: string[];
}

export function summarizeDataset(d: Dataset): { dataset: string; slices: SliceSummary[] } {
  return {
    dataset: d.name,
    slices: d.slices.map((s) => ({
      name: s.name,
      patient: s.patient,
      spots: s.counts.nRows,
      genes: s.counts.nCols,
      totalCounts: s.counts.sum(),
      hasImage: !!s.image && (!!s.image.pixels || (!!s.image.path && exists(s.image.path))),
      hasLabels: Object.keys(s.labels).length > 0,
      labelSets: Object.keys(s.labels),
    })),
  };
}

/** The summary as a DataFrame, one row per slice. */
export function summaryTable(sum: { dataset: string; slices: SliceSummary[] }): Frame {
  return frameOf(
    sum.slices.map((s) => ({
      slice: s.name,
      patient: s.patient,
      spots: s.spots,
      genes: s.genes,
      totalCounts: s.totalCounts,
      image: s.hasImage ? "yes" : "no",
      labels: s.labelSets.join(", ") || "no",
    })),
    ["slice", "patient", "spots", "genes", "totalCounts", "image", "labels"],
  );
}

/** The summary in Markdown: a line about the dataset, then its table. */
export function summaryMarkdown(sum: { dataset: string; slices: SliceSummary[] }): string {
  return [
    `Dataset **${sum.dataset}**: ${sum.slices.length} slices, ${
      sum.slices.reduce((a, s) => a + s.spots, 0)
    } spots`,
    "",
    markdownOf(summaryTable(sum)).trimEnd(),
  ].join("\n");
}
