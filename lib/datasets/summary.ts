/** Per-slice summaries of a dataset (what `spahgc data info` prints). */
import { exists } from "../io/files.ts";
import type { Dataset } from "../data/slice.ts";

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

/** A Markdown table of the summary. */
export function summaryMarkdown(sum: { dataset: string; slices: SliceSummary[] }): string {
  const rows = sum.slices.map((s) =>
    `| ${s.name} | ${s.patient} | ${s.spots} | ${s.genes} | ${s.totalCounts} | ${
      s.hasImage ? "yes" : "no"
    } | ${s.labelSets.join(", ") || "no"} |`
  );
  return [
    `Dataset **${sum.dataset}**: ${sum.slices.length} slices, ${
      sum.slices.reduce((a, s) => a + s.spots, 0)
    } spots`,
    "",
    "| slice | patient | spots | genes | total counts | image | labels |",
    "|---|---|---:|---:|---:|---|---|",
    ...rows,
  ].join("\n");
}
