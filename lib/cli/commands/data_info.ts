/** `spahgc data info`. */
import { WarningLog } from "../../errors.ts";
import { loadDataset } from "../../datasets/registry.ts";
import { summarizeDataset, summaryMarkdown } from "../../datasets/summary.ts";
import { type Command, json } from "../command.ts";
import { ANNDATA_OPTIONS, annDataOptions } from "../shared_options.ts";
import { UsageError } from "../options.ts";

export const dataInfoCommand: Command = {
  usage: "spahgc data info <dataset> [--data-dir DIR] [--slices A1,B1] [--json]",
  summary:
    "per slice: patient, spots after the join, genes, total counts, image and labels present",
  options: {
    ...ANNDATA_OPTIONS,
    "data-dir": {
      type: "string",
      help: "data directory (default: $SPAHGC_DATA_DIR, data/, ../shared/data)",
    },
    slices: { type: "string", help: "comma-separated subset of slices" },
    json: { type: "boolean", help: "one JSON object on stdout" },
  },
  async run(v) {
    const [name] = v.positionals;
    if (!name) throw new UsageError("missing <dataset>");
    const log = new WarningLog(true);
    const ds = await loadDataset(name, {
      dataDir: v.str("data-dir"),
      anndata: annDataOptions(v),
      slices: v.list("slices"),
      log,
    });
    const sum = summarizeDataset(ds);
    if (v.flag("json")) {
      json({
        dataset: sum.dataset,
        slices: sum.slices.map(({ labelSets: _, ...s }) => s),
        warnings: log.warnings.length,
      });
    } else {
      console.log(summaryMarkdown(sum));
      console.log(
        `\nsource: ${ds.provenance.source}\nlocation: ${ds.provenance.location}\nwarnings: ${log.warnings.length}`,
      );
    }
    return 0;
  },
};
