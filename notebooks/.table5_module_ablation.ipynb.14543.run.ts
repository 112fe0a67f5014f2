console.log("__CELL_cb75282d__1");
import * as spahgc from "../lib/mod.ts";
import { join } from "node:path";

const NAME = "table5_module_ablation";
const params = spahgc.notebookParams({
  ...{ folds: ["C2", "C5"] as string[] | undefined, epochs: 2, baselineEpochs: 5 },
  profiles: { quick: {}, full: { folds: undefined, epochs: 200, baselineEpochs: 100 } },
});
const out = join(spahgc.PROJECT_ROOT, "figures", NAME);
const manifest = spahgc.startManifest(NAME, params);
const data = await spahgc.studyData();
manifest.manifest.dataset = {
  name: data.dataset.name,
  slices: data.slices,
  source: data.dataset.provenance.source,
  location: data.dataset.provenance.location,
  warnings: data.dataset.provenance.warnings.length,
};
const outputs: string[] = [];
const notes: string[] = [data.note, `profile: ${params.profile}`];
const epochsFor = (
  m: string,
) => (m === "spahgc" || m === "eggn" ? params.epochs : params.baselineEpochs);
await spahgc.display(`**Data:** ${data.note}. **Profile:** ${params.profile}.`);

console.log("__CELL_cb75282d__2");
const showTable = async (
  rows: Record<string, unknown>[],
  file: string,
  title: string,
  tableNotes: string[] = [],
) => {
  const t = spahgc.exportTable(rows, out, file, {
    title,
    params,
    notes: [...notes, ...tableNotes],
  });
  outputs.push(...t.files.map((f) => f.slice(out.length + 1)));
  await spahgc.display(`### ${title}\n\n${spahgc.markdownTable(rows, { digits: 3 })}`);
};
const showFigure = async (fig: spahgc.Figure, file: string, title: string) => {
  const files = await spahgc.saveFigure(fig, out, file, { params, notes, title, show: true });
  outputs.push(...files.map((f) => f.slice(out.length + 1)));
};

console.log("__CELL_cb75282d__3");
const configs: spahgc.StudyConfig[] = [
  {
    label: "w/o CNDA",
    method: "spahgc",
    options: { epochs: params.epochs, config: { ablation: { noCNDA: true } } },
  },
  {
    label: "w/o CNAP",
    method: "spahgc",
    options: { epochs: params.epochs, config: { ablation: { noCNAP: true } } },
  },
  { label: "SpaHGC", method: "spahgc", options: { epochs: params.epochs } },
];
const results = await spahgc.runStudy(configs, { data, folds: params.folds });
const measured = spahgc.measuredRows(results).map((r) => ({ ...r, pccPercent: 100 * r.pcc }));
await showTable(measured, "measured", "Table 5 · module ablation (CNDA, CNAP) — measured here");
await showTable(
  spahgc.paper.quotedRows("paper Table 5", spahgc.paper.TABLE5_MODULES),
  "quoted",
  "Table 5 · module ablation (CNDA, CNAP) — quoted from the paper (other datasets)",
);
const pts = results.flatMap((r) =>
  r.evaluation.slices.map((s) => ({ method: r.label, slice: s.test, pcc: s.pcc }))
);
await showFigure(
  spahgc.pccBarFigure(pts, { title: "Table 5 · module ablation (CNDA, CNAP)" }),
  "per_slice",
  "Per-slice PCC",
);

console.log("__CELL_cb75282d__5");
const m = manifest.finish(out, outputs, notes);
await spahgc.display(
  `table5_module_ablation finished: ${outputs.length} outputs in figures/${NAME}/ (${m.wallSeconds} s)`,
);
