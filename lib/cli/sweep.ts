/** `spahgc sweep …`: run a sweep spec locally or on Slurm, show its status, collect its results. */
import { expandSpec } from "../sweep/spec.ts";
import { runLocal, runOne, runSlurm, slurmJobs } from "../sweep/runners.ts";
import { collect, sweepStatus } from "../sweep/store.ts";
import { markdownTable } from "../provenance/table.ts";
import { meanStd } from "../eval/metrics.ts";
import { choiceOption, type Command, json, numberOption, UsageError } from "./command.ts";

export const SWEEP_COMMANDS: Record<string, Command> = {
  "sweep run-one": {
    usage: "spahgc sweep run-one <spec.json> <run-id>",
    summary: "run one run of a sweep in this process (what workers and Slurm array tasks call)",
    options: {},
    async run([spec, id]) {
      if (!spec || !id) throw new UsageError("need <spec.json> <run-id>");
      const rows = await runOne(await expandSpec(spec), id);
      console.log(JSON.stringify(rows));
      return 0;
    },
  },
  "sweep status": {
    usage: "spahgc sweep status <spec.json> [--json]",
    summary: "how many runs of a sweep are done, which are pending, and Slurm jobs in flight",
    options: { json: { type: "boolean", help: "JSON output" } },
    async run([spec], v) {
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
      if (v.json) json(out);
      else {
        console.log(
          `${s.spec.name}: ${st.done}/${st.total} runs done, ${st.pending.length} pending (${s.dir})${
            slurm?.length ? `; Slurm jobs in flight: ${slurm.join(", ")}` : ""
          }`,
        );
      }
      return 0;
    },
  },
  "sweep collect": {
    usage: "spahgc sweep collect <spec.json> [--json]",
    summary:
      "gather finished runs into <sweep dir>/<name>.parquet and print mean PCC per method and grid point",
    options: { json: { type: "boolean", help: "JSON output" } },
    async run([spec], v) {
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
      if (v.json) json({ file, rows: rows.length, missing, summary });
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
  },
  sweep: {
    usage:
      "spahgc sweep <spec.json> [--runner local|slurm] [--max-parallel N] [--retries N] [--dry-run] [--json]",
    summary:
      "run every (method, grid point, seed, fold) of a sweep spec on a local worker pool or as a Slurm job array; resumable",
    options: {
      runner: {
        type: "string",
        help: "local (default: worker processes) | slurm (sbatch job array)",
      },
      "max-parallel": {
        type: "string",
        help: "local: workers (default: cores); slurm: array throttle %N",
      },
      retries: { type: "string", help: "extra attempts for a failed run (default 2)" },
      "dry-run": { type: "boolean", help: "slurm: print the job-array script, submit nothing" },
      json: { type: "boolean", help: "JSON report" },
    },
    async run([spec], v) {
      if (!spec) throw new UsageError("missing <spec.json>");
      const runner = choiceOption(v, "runner", ["local", "slurm"], "local");
      const maxParallel = v["max-parallel"] === undefined ? undefined : numberOption(
        v,
        "max-parallel",
        1,
        (x) => Number.isInteger(x) && x >= 1,
        "a positive integer",
      );
      const retries = numberOption(
        v,
        "retries",
        2,
        (x) => Number.isInteger(x) && x >= 0,
        "an integer ≥ 0",
      );
      const s = await expandSpec(spec);
      if (v["dry-run"] && runner === "local") {
        throw new UsageError("--dry-run applies to --runner slurm");
      }
      const report = runner === "local"
        ? await runLocal(s, { maxParallel, retries })
        : await runSlurm(s, { maxParallel, retries, dryRun: Boolean(v["dry-run"]) });
      if (v.json) json(report);
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
  },
};
