/** `spahgc sweep run-one`. */
import { expandSpec } from "../../sweep/spec.ts";
import { runOne } from "../../sweep/runners.ts";
import { type Command } from "../command.ts";
import { UsageError } from "../options.ts";

export const sweepRunOneCommand: Command = {
  usage: "spahgc sweep run-one <spec.json> <run-id>",
  summary: "run one run of a sweep in this process (what workers and Slurm array tasks call)",
  options: {},
  async run(v) {
    const [spec, id] = v.positionals;
    if (!spec || !id) throw new UsageError("need <spec.json> <run-id>");
    const rows = await runOne(await expandSpec(spec), id);
    console.log(JSON.stringify(rows));
    return 0;
  },
};
