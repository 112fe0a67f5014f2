/** `spahgc data list`. */
import { DATASETS } from "../../datasets/registry.ts";
import { type Command, json } from "../command.ts";

export const dataListCommand: Command = {
  usage: "spahgc data list [--json]",
  summary: "the datasets the registry knows and how to obtain them",
  options: { json: { type: "boolean", help: "JSON output" } },
  run(v) {
    if (v.flag("json")) json(DATASETS);
    else {for (const d of DATASETS) {
        console.log(
          `${d.name.padEnd(12)} ${d.description}\n${"".padEnd(12)} genes: ${d.genes}${
            d.geneParams
              ? ` (${Object.entries(d.geneParams).map(([k, x]) => `${k} ${x}`).join(", ")})`
              : ""
          }${d.cvSlices ? `; studies use ${d.cvSlices.join(", ")}` : ""}\n${
            "".padEnd(12)
          } source: ${d.source}`,
        );
      }}
    return Promise.resolve(0);
  },
};
