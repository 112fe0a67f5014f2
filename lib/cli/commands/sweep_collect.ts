/** `spahgc sweep collect`. */
import { expandSpec } from "../../sweep/spec.ts";
import { collect } from "../../sweep/store.ts";
import { markdownTable } from "../../provenance/table.ts";
import { groupInOrder, pl } from "../../table/frame.ts";
import { type Command, json } from "../command.ts";
import { UsageError } from "../options.ts";

export const sweepCollectCommand: Command = {
  usage: "spahgc sweep collect <spec.json> [--json]",
  summary:
    "gather finished runs into <sweep dir>/<name>.parquet and print mean PCC per method and grid point",
  options: { json: { type: "boolean", help: "JSON output" } },
  async run(v) {
    const [spec] = v.positionals;
    if (!spec) throw new UsageError("missing <spec.json>");
    const s = await expandSpec(spec);
    const { frame, missing, file } = collect(s);
    const summary = groupInOrder(
      frame,
      ["method", "point"],
      pl.col("pcc").count().alias("n"),
      pl.col("pcc").mean().alias("pcc"),
      pl.col("pcc").std().alias("pccSd"),
    );
    const rows = frame.height;
    if (v.flag("json")) json({ file, rows, missing, summary: summary.toRecords() });
    else {
      console.log(markdownTable(summary));
      console.log(
        `${rows} rows from ${s.runs.length - missing} finished runs → ${file}${
          missing ? `; ${missing} runs not finished (not in the store)` : ""
        }`,
      );
    }
    return 0;
  },
};
