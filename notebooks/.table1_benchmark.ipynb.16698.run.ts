
console.log("__CELL_923da6d6__1");
import * as spahgc from "../lib/mod.ts";
import { join } from "node:path";

const NAME = "table1_benchmark";
const params = spahgc.notebookParams({
  ...{ folds: ["C2", "C5"] as string[] | undefined, epochs: 2, baselineEpochs: 5 },
  profiles: { quick: {}, full: { folds: undefined, epochs: 200, baselineEpochs: 100 } },
});
const out = join(spahgc.figuresRoot(), NAME);
const manifest = spahgc.startManifest(NAME, params);
const data = await spahgc.studyData();
manifest.manifest.dataset = {
  name: data.dataset.name, slices: data.slices, source: data.dataset.provenance.source,
  location: data.dataset.provenance.location, warnings: data.dataset.provenance.warnings.length,
};
const outputs: string[] = [];
const notes: string[] = [data.note, `profile: ${params.profile}`];
const epochsFor = (m: string) => (m === "spahgc" || m === "eggn" ? params.epochs : params.baselineEpochs);
await spahgc.display(`**Data:** ${data.note}. **Profile:** ${params.profile}.`);

console.log("__CELL_923da6d6__2");
const showTable = async (rows: Record<string, unknown>[], file: string, title: string, tableNotes: string[] = []) => {
  const t = spahgc.exportTable(rows, out, file, { title, params, notes: [...notes, ...tableNotes] });
  outputs.push(...t.files.map((f) => f.slice(out.length + 1)));
  await spahgc.display(`### ${title}\n\n${spahgc.markdownTable(rows, { digits: 3 })}`);
};
const showFigure = async (fig: spahgc.Figure, file: string, title: string) => {
  const files = await spahgc.saveFigure(fig, out, file, { params, notes, title, show: true });
  outputs.push(...files.map((f) => f.slice(out.length + 1)));
};

console.log("__CELL_923da6d6__3");
const methods = ["spahgc", "ridge", "knn", "mlp", "bleep", "mclstexp", "histogene", "eggn", "nh2st"];
const results = await spahgc.runStudy(
  methods.map((m) => ({ label: m, method: m, options: { epochs: epochsFor(m) } })),
  { data, folds: params.folds },
);
const bench = spahgc.benchmarkTable(results.map((r) => ({ evaluation: r.evaluation, wallSeconds: r.run.seconds ?? undefined })), "spahgc");
const measured = bench.rows.map((r) => ({
  source: "measured", method: r.method, paperName: spahgc.paper.PAPER_NAME[r.method] ?? "(not in paper)",
  pccPercent: 100 * r.pcc, pccSdPercent: 100 * r.pccSd, rmse: r.rmse, pVsSpaHGC: r.pVsReference, q: r.qVsReference, seconds: r.wallSeconds,
}));
const quoted = Object.entries(spahgc.paper.TABLE1_HER2).map(([name, v]) => ({
  source: "quoted (paper Table 1, HER2+)", method: "—", paperName: name,
  pccPercent: v.pcc, pccSdPercent: null, rmse: v.rmse, pVsSpaHGC: null, q: null, seconds: null,
}));
await showTable([...measured, ...quoted], "table1", "Table 1 — PCC (%) and RMSE, measured here and quoted", bench.notes);
const pts = results.flatMap((r) => r.evaluation.slices.map((s) => ({ method: r.label, slice: s.test, pcc: s.pcc })));
await showFigure(spahgc.pccBarFigure(pts, { title: "Per-slice PCC" }), "table1_per_slice", "Per-slice PCC");


console.log("__CELL_923da6d6__5");
await spahgc.closeRenderer();
const m = manifest.finish(out, outputs, notes);
await spahgc.display(`table1_benchmark finished: ${outputs.length} outputs in figures/${NAME}/ (${m.wallSeconds} s)`);
