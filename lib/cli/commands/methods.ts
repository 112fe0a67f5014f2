/** `spahgc methods`. */
import { METHOD_SPECS } from "../../model/methods.ts";
import { type Command, json } from "../command.ts";

export const methodsCommand: Command = {
  usage: "spahgc methods [--json]",
  summary: "the methods `train --method` knows: what each is, its paper name and default epochs",
  options: { json: { type: "boolean", help: "JSON output" } },
  run(v) {
    const rows = METHOD_SPECS.map(({ make: _, ...m }) => m);
    if (v.flag("json")) json(rows);
    else {
      for (const m of rows) {
        console.log(
          `${m.name.padEnd(10)} ${m.summary}\n${"".padEnd(10)} paper: ${
            m.paperName ?? "(not in the paper)"
          }${m.defaultEpochs ? `, ${m.defaultEpochs} epochs by default` : ""}`,
        );
      }
    }
    return Promise.resolve(0);
  },
};
