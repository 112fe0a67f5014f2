/** `spahgc sweep status`. */
import { expandSpec } from "../../sweep/spec.ts";
import { slurmJobs } from "../../sweep/runners.ts";
import { sweepStatus } from "../../sweep/store.ts";
import { type Command, json } from "../command.ts";
import { UsageError } from "../options.ts";

export const sweepStatusCommand: Command = {
  usage: "spahgc sweep status <spec.json> [--json]",
  summary: "how many runs of a sweep are done, which are pending, and Slurm jobs in flight",
  options: { json: { type: "boolean", help: "JSON output" } },
  async run(v) {
    const [spec] = v.positionals;
    if (!spec) throw new UsageError("missing <spec.json>");
    const s = await expandSpec(spec);
    const st = sweepStatus(s);
    let slurm: string[] | null = null;
    try {
      slurm = slurmJobs(s);
    } catch {
      slurm = null;
    }
    const out = {
      sweep: s.spec.name,
      dir: s.dir,
      total: st.total,
      done: st.done,
      pending: st.pending.map((r) => r.id),
      slurmJobs: slurm,
    };
    if (v.flag("json")) json(out);
    else {
      console.log(
        `${s.spec.name}: ${st.done}/${st.total} runs done, ${st.pending.length} pending (${s.dir})${
          slurm?.length ? `; Slurm jobs in flight: ${slurm.join(", ")}` : ""
        }`,
      );
    }
    return 0;
  },
};
