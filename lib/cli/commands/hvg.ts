/** `spahgc hvg`. */
import { WarningLog } from "../../errors.ts";
import { loadDataset } from "../../datasets/registry.ts";
import { selectGenes } from "../../preprocess/hvg.ts";
import { type Command, json } from "../command.ts";
import { UsageError } from "../options.ts";
import { ANNDATA_OPTIONS, annDataOptions, GENE_OPTIONS, geneParams } from "../shared_options.ts";

export const hvgCommand: Command = {
  usage:
    "spahgc hvg <dataset> [--recipe R] [--flavor F] [--n-top N] [--target-sum S] [--data-dir DIR] [--json]",
  summary:
    "highly variable gene selection by a named recipe: per-slice counts, size and the gene list",
  options: {
    ...GENE_OPTIONS,
    ...ANNDATA_OPTIONS,
    "data-dir": { type: "string", help: "data directory" },
    json: { type: "boolean", help: "one JSON object on stdout" },
  },
  async run(v) {
    const [name] = v.positionals;
    if (!name) throw new UsageError("missing <dataset>");
    const p = geneParams(name, v);
    const ds = await loadDataset(name, {
      dataDir: v.str("data-dir"),
      anndata: annDataOptions(v),
      log: new WarningLog(true),
    });
    const t0 = performance.now();
    const sel = selectGenes(ds.slices, p);
    const seconds = (performance.now() - t0) / 1000;
    if (v.flag("json")) {
      json({
        recipe: sel.recipe,
        params: sel.params,
        genes: sel.genes,
        perSlice: sel.perSlice,
        notes: sel.notes,
        seconds,
      });
    } else {
      console.log(
        `recipe ${sel.recipe} (${
          JSON.stringify({ ...p, slices: undefined })
        }) on ${ds.name}: ${sel.genes.length} genes in ${seconds.toFixed(2)} s`,
      );
      for (const n of sel.notes) console.log(`  ${n}`);
      for (const s of sel.perSlice) console.log(`  ${s.name}: ${s.hvg} HVGs`);
      console.log(sel.genes.join(" "));
    }
    return 0;
  },
};
