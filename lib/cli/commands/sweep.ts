/** `spahgc sweep`. */
import { expandSpec } from "../../sweep/spec.ts";
import { runLocal, runSlurm } from "../../sweep/runners.ts";
import { type Command, json } from "../command.ts";
import { UsageError } from "../options.ts";

export const sweepCommand: Command = {
  usage:
    "spahgc sweep <spec.json> [--runner local|slurm] [--max-parallel N] [--retries N] [--dry-run] [--json]",
  summary:
    "run every (method, grid point, seed, fold) of a sweep spec on a local worker pool or as a Slurm job array; resumable",
  options: {
    runner: {
      type: "string",
      choices: ["local", "slurm"],
      help: "local (default: worker processes) | slurm (sbatch job array)",
    },
    "max-parallel": {
      type: "integer",
      min: 1,
      help: "local: workers (default: cores); slurm: array throttle %N",
    },
    retries: { type: "integer", min: 0, help: "extra attempts for a failed run (default 2)" },
    "dry-run": { type: "boolean", help: "slurm: print the job-array script, submit nothing" },
    json: { type: "boolean", help: "JSON report" },
  },
  async run(v) {
    const [spec] = v.positionals;
    if (!spec) throw new UsageError("missing <spec.json>");
    const runner = v.choice("runner", ["local", "slurm"], "local");
    const maxParallel = v.int("max-parallel");
    const retries = v.int("retries") ?? 2;
    const s = await expandSpec(spec);
    if (v.flag("dry-run") && runner === "local") {
      throw new UsageError("--dry-run applies to --runner slurm");
    }
    const report = runner === "local"
      ? await runLocal(s, { maxParallel, retries })
      : await runSlurm(s, { maxParallel, retries, dryRun: v.flag("dry-run") });
    if (v.flag("json")) json(report);
    else if ("script" in report && report.script) console.log(report.script);
    else {
      console.log(
        `${s.spec.name} (${report.runner}): ${report.ran} run(s) done now, ${report.skipped} were done before, ${report.failed.length} failed, ${
          report.seconds.toFixed(1)
        } s`,
      );
    }
    return report.failed.length ? 1 : 0;
  },
};
