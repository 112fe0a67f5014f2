/** `spahgc sweep collect`. */
import { expandSpec } from "../../sweep/spec.ts";
import { collect } from "../../sweep/store.ts";
import { markdownTable } from "../../provenance/table.ts";
import { meanStd } from "../../eval/metrics.ts";
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
    const { rows, missing, file } = collect(s);
    const groups = new Map<string, number[]>();
    for (const r of rows) {
      const k = `${r.method} ${r.point}`;
      groups.set(k, [...(groups.get(k) ?? []), r.pcc]);
    }
    const summary = [...groups].map(([k, pccs]) => {
      const [method, ...point] = k.split(" ");
      const m = meanStd(pccs);
      return { method, point: point.join(" "), n: pccs.length, pcc: m.mean, pccSd: m.std };
    });
    if (v.flag("json")) json({ file, rows: rows.length, missing, summary });
    else {
      console.log(markdownTable(summary));
      console.log(
        `${rows.length} rows from ${s.runs.length - missing} finished runs → ${file}${
          missing ? `; ${missing} runs not finished (not in the store)` : ""
        }`,
      );
    }
    return 0;
  },
};
