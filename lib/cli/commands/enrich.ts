/** `spahgc enrich`. */
import { join } from "node:path";
import { DataError } from "../../errors.ts";
import {
  type EnrichmentRow,
  geneList,
  readGeneSets,
  tumourEnrichment,
  writeGmt,
} from "../../eval/enrichment.ts";
import { rowsOf } from "../../table/frame.ts";
import { writeFileAtomic } from "../../io/files.ts";
import { exportTable } from "../../provenance/table.ts";
import { enrichmentDotFigure } from "../../plot/figures.ts";
import { closeRenderer } from "../../plot/export.ts";
import { type Command, json } from "../command.ts";
import { UsageError } from "../options.ts";
import {
  openRun,
  pickSlice,
  RUN_OPTIONS,
  runParams,
  TUMOUR_OPTIONS,
  writeFigure,
} from "../run_helpers.ts";

export const enrichCommand: Command = {
  usage:
    "spahgc enrich <run-dir> --gene-sets FILE|DIR [--slice S] [--labels pathologist] [--q 0.05] [--out DIR] [--json]",
  summary:
    "tumour vs non-tumour DE (rank-sum, BH) on predicted and measured expression, and gene-set over-representation",
  options: {
    ...RUN_OPTIONS,
    "gene-sets": { type: "string", help: ".gmt file, GO .csv export, or a folder of them" },
    ...TUMOUR_OPTIONS,
    q: {
      type: "number",
      min: Number.MIN_VALUE,
      max: 1,
      help: "adjusted-p cut for DE genes and enriched sets (default 0.05)",
    },
    "min-set-size": {
      type: "integer",
      min: 1,
      help: "smallest set within the tested genes (default 5)",
    },
  },
  async run(v) {
    const [dir] = v.positionals;
    const geneSets = v.str("gene-sets");
    if (!geneSets) throw new UsageError("missing --gene-sets FILE|DIR");
    const run = await openRun(dir, v);
    const s = pickSlice(run, v.str("slice"));
    const key = v.str("labels") ?? "pathologist";
    const labels = s.labels[key];
    if (!labels) {
      throw new DataError(`slice ${s.test} has no '${key}' labels`, { file: s.file });
    }
    const sets = readGeneSets(geneSets);
    const q = v.num("q") ?? 0.05;
    const r = tumourEnrichment(s.predicted, s.measured, s.genes, labels, sets, {
      tumourLabels: v.list("tumour"),
      q,
      minSetSize: v.int("min-set-size") ?? 5,
    });
    const setRows = (src: "predicted" | "measured") => rowsOf<EnrichmentRow>(r[src].enrichment);
    const enriched = (src: "predicted" | "measured") => setRows(src).filter((e) => e.padj < q);
    const summary = {
      run: run.dir,
      method: run.method,
      slice: s.test,
      tumourSpots: r.tumourSpots,
      otherSpots: r.otherSpots,
      excludedSpots: r.excludedSpots,
      deGenes: {
        predicted: r.predicted.significant.length,
        measured: r.measured.significant.length,
      },
      overlap: r.overlap.length,
      enrichedSets: {
        predicted: enriched("predicted").length,
        measured: enriched("measured").length,
      },
      topSets: {
        predicted: rowsOf(r.predicted.enrichment.head(5).select("set", "padj")),
        measured: rowsOf(r.measured.enrichment.head(5).select("set", "padj")),
      },
      coverage: r.coverage,
      notes: r.notes,
    };
    if (v.flag("json")) json(summary);
    else {
      console.log(
        `${s.test}: ${r.tumourSpots} tumour vs ${r.otherSpots} other spots (${r.excludedSpots} left out)`,
      );
      console.log(
        `DE genes (BH q < ${q}): predicted ${r.predicted.significant.length}, measured ${r.measured.significant.length}, shared ${r.overlap.length}`,
      );
      console.log(
        `enriched sets (q < ${q}): predicted ${summary.enrichedSets.predicted}, measured ${summary.enrichedSets.measured}`,
      );
      for (const src of ["predicted", "measured"] as const) {
        for (const e of setRows(src).slice(0, 5)) {
          console.log(
            `  ${src}: ${e.set} — ${e.overlap}/${e.setSize}, q = ${e.padj.toPrecision(3)}`,
          );
        }
      }
      for (const n of r.notes) console.error(`note: ${n}`);
    }
    if (v.str("out")) {
      const out = v.str("out")!;
      Deno.mkdirSync(out, { recursive: true });
      const params = {
        ...runParams(run),
        slice: s.test,
        labels: key,
        geneSets,
        q,
      };
      const files: string[] = [];
      for (const src of ["predicted", "measured"] as const) {
        files.push(
          ...exportTable(
            r[src].de,
            out,
            `de_${src}`,
            { title: `${s.test}: tumour vs non-tumour, ${src}`, params, notes: r.notes },
          ).files,
          ...exportTable(
            r[src].enrichment,
            out,
            `enrichment_${src}`,
            { title: `${s.test}: over-representation, ${src} DE genes`, params, notes: r.notes },
          ).files,
        );
        // Plain lists for g:Profiler / Enrichr: the significant genes, and the background.
        writeFileAtomic(join(out, `genes_${src}.txt`), geneList(r[src].significant));
        files.push(join(out, `genes_${src}.txt`));
      }
      writeFileAtomic(join(out, "background.txt"), geneList(s.genes));
      writeFileAtomic(
        join(out, "de_genes.gmt"),
        writeGmt([
          {
            name: `${s.test}_tumour_DE_predicted`,
            description: run.method,
            genes: r.predicted.significant,
          },
          {
            name: `${s.test}_tumour_DE_measured`,
            description: "measured",
            genes: r.measured.significant,
          },
          { name: `${s.test}_tumour_DE_shared`, description: "both", genes: r.overlap },
        ]),
      );
      writeFileAtomic(join(out, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
      files.push(
        join(out, "background.txt"),
        join(out, "de_genes.gmt"),
        join(out, "summary.json"),
      );
      const points = (["predicted", "measured"] as const).flatMap((src) =>
        setRows(src).map((e) => ({
          source: src === "predicted" ? `${run.method} (predicted)` : "measured",
          term: e.set,
          padj: e.padj,
          overlap: e.overlap,
          setSize: e.setSize,
        }))
      );
      files.push(
        ...await writeFigure(
          enrichmentDotFigure(points, { title: `${s.test}: tumour vs non-tumour enrichment`, q }),
          out,
          "enrichment_dots",
          params,
          r.notes,
        ),
      );
      await closeRenderer();
      if (!v.flag("json")) console.log(`wrote ${files.join(", ")}`);
    }
    return 0;
  },
};
