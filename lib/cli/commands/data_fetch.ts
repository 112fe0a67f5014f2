/** `spahgc data fetch`. */
import { join } from "node:path";
import { fetchDataset } from "../../datasets/registry.ts";
import { PROJECT_ROOT } from "../../paths.ts";
import { type Command, json } from "../command.ts";
import { UsageError } from "../options.ts";

export const dataFetchCommand: Command = {
  usage: "spahgc data fetch <dataset> [--data-dir DIR] [--json]",
  summary: "obtain a dataset from its public source into data/ (or says where to put it)",
  options: {
    "data-dir": { type: "string", help: "where to put it (default: data/)" },
    json: { type: "boolean", help: "JSON output" },
  },
  async run(v) {
    const [name] = v.positionals;
    if (!name) throw new UsageError("missing <dataset>");
    const msg = await fetchDataset(
      name,
      v.str("data-dir") ?? join(PROJECT_ROOT, "data"),
    );
    v.flag("json") ? json({ dataset: name, result: msg }) : console.log(msg);
    return 0;
  },
};
