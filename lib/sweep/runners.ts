/**
 * Executing a sweep. `runOne` does one run in the current process (what every worker and every
 * Slurm array task calls, via `spahgc sweep run-one`). `runLocal` keeps a pool of worker
 * processes busy (one run per process: TF.js is single-threaded, so processes are the unit of
 * parallelism; OpenBLAS, which multiplies the matrices, gets the cores divided among workers). `runSlurm` hands the pending runs to Slurm as a job array — the
 * institution's scheduler, not ours — polls `squeue`, and resubmits what failed. Both skip runs
 * whose result exists, so a killed sweep resumes where it stopped.
 */
import { join } from "node:path";
import { DataError, WarningLog } from "../errors.ts";
import { PROJECT_ROOT } from "../paths.ts";
import { blasThreadsEnv, runExperiment } from "../train/run_config.ts";
import { defaultSplit } from "../datasets/registry.ts";
import { foldMetrics } from "../train/experiment.ts";
import { writeFileAtomic } from "../io/files.ts";
import type { ExpandedSweep, SweepRun } from "./spec.ts";
import { isDone, type ResultRow, rowsFor, sweepStatus, writeResult } from "./store.ts";

/** Runs one run of the sweep here and records its result. */
export async function runOne(s: ExpandedSweep, id: string): Promise<ResultRow[]> {
  const run = s.runs.find((r) => r.id === id);
  if (!run) throw new DataError(`no run ${id} in this sweep`, { file: s.specPath });
  const spec = s.spec;
  const out = join(s.dir, "runs", id);
  const report = await runExperiment({
    dataset: spec.dataset,
    dataDir: spec.dataDir,
    slices: spec.slices,
    split: spec.split ?? defaultSplit(spec.dataset),
    folds: [run.fold],
    genes: spec.genes ? { recipe: spec.genes } : undefined,
    encoder: spec.encoder ?? "builtin",
    method: run.method,
    options: { ...run.options, progress: () => {} },
  }, { out, log: () => {}, warnings: new WarningLog(false) });
  const rows: ResultRow[] = report.folds.map((f) => ({
    ...rowsFor(run, spec.name),
    ...foldMetrics(f),
    backend: report.backend,
  }));
  writeResult(s.dir, id, rows);
  return rows;
}

const CLI = join(PROJECT_ROOT, "lib", "cli", "main.ts");

export interface RunnerOptions {
  maxParallel?: number;
  /** Extra attempts for a run whose worker failed (default 2). */
  retries?: number;
  log?: (line: string) => void;
}

export interface RunnerReport {
  runner: "local" | "slurm";
  total: number;
  ran: number;
  skipped: number;
  failed: string[];
  seconds: number;
}

function progressLine(s: ExpandedSweep, t0: number, startDone: number): string {
  const st = sweepStatus(s);
  const el = (performance.now() - t0) / 1000;
  const doneNow = st.done - startDone;
  const eta = doneNow > 0 ? (el / doneNow) * st.pending.length : NaN;
  const bar = "█".repeat(Math.round((20 * st.done) / st.total)).padEnd(20, "·");
  return `  [${bar}] ${st.done}/${st.total} runs done, ${el.toFixed(0)} s${
    Number.isFinite(eta) ? `, ETA ${eta.toFixed(0)} s` : ""
  }`;
}

/** A pool of `maxParallel` worker processes (default: the number of cores). */
export async function runLocal(s: ExpandedSweep, o: RunnerOptions = {}): Promise<RunnerReport> {
  const log = o.log ?? ((l: string) => console.error(l));
  const t0 = performance.now();
  const start = sweepStatus(s);
  const queue = [...start.pending];
  const attempts = new Map<string, number>();
  const failed: string[] = [];
  const children = new Set<Deno.ChildProcess>();
  const parallel = Math.max(1, o.maxParallel ?? navigator.hardwareConcurrency);
  const blasThreads = blasThreadsEnv(parallel);
  log(
    `sweep ${s.spec.name}: ${start.total} runs, ${start.done} already done, ${queue.length} to run on ${parallel} local worker(s)`,
  );
  // An interrupted driver takes its workers with it and stops taking runs (finished runs are on
  // disk already); it does not exit the process, which may be a notebook kernel.
  let interrupted = false;
  const stop = () => {
    interrupted = true;
    queue.length = 0;
    for (const c of children) {
      try {
        c.kill("SIGTERM");
      } catch { /* already gone */ }
    }
  };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  const worker = async () => {
    while (queue.length) {
      const run = queue.shift()!;
      if (isDone(s.dir, run.id)) continue;
      const logFile = join(s.dir, "logs", `${run.id}.log`);
      Deno.mkdirSync(join(s.dir, "logs"), { recursive: true });
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", CLI, "sweep", "run-one", s.specPath, run.id],
        env: blasThreads,
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      children.add(child);
      const out = await child.output();
      children.delete(child);
      if (interrupted) return;
      writeFileAtomic(
        logFile,
        new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr),
      );
      if (!out.success || !isDone(s.dir, run.id)) {
        const n = (attempts.get(run.id) ?? 0) + 1;
        attempts.set(run.id, n);
        if (n <= (o.retries ?? 2)) {
          log(`  run ${run.id} failed (attempt ${n}; log ${logFile}): retrying`);
          queue.push(run);
        } else {
          log(`  run ${run.id} failed ${n} times; giving up (log ${logFile})`);
          failed.push(run.id);
        }
      } else log(progressLine(s, t0, start.done));
    }
  };
  try {
    await Promise.all(Array.from({ length: parallel }, worker));
  } finally {
    Deno.removeSignalListener("SIGTERM", stop);
    Deno.removeSignalListener("SIGINT", stop);
  }
  if (interrupted) {
    throw new DataError(
      `sweep ${s.spec.name} interrupted: ${
        sweepStatus(s).done
      } of ${start.total} runs are done and kept; run it again to resume`,
      { file: s.specPath },
    );
  }
  return {
    runner: "local",
    total: start.total,
    ran: start.pending.length - failed.length,
    skipped: start.done,
    failed,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** The job-array script for `pending` runs (ids listed one per line in `listFile`). */
export function slurmScript(
  s: ExpandedSweep,
  pending: SweepRun[],
  listFile: string,
  o: { maxParallel?: number; jobName: string },
): string {
  const throttle = o.maxParallel ? `%${o.maxParallel}` : "";
  return `#!/bin/bash
#SBATCH --job-name=${o.jobName}
#SBATCH --array=0-${pending.length - 1}${throttle}
#SBATCH --cpus-per-task=1
#SBATCH --output=${join(s.dir, "slurm", "logs", "%A_%a.out")}
#SBATCH --chdir=${PROJECT_ROOT}
# Generated by \`spahgc sweep ${s.specPath} --runner slurm\`: one sweep run per array task; each
# task writes its result atomically, so resubmitting after a failure never redoes finished work.
set -euo pipefail
# OpenBLAS (matrix products of the wasm-blas backend) uses the task's CPUs, not the node's.
export OPENBLAS_NUM_THREADS=\${OPENBLAS_NUM_THREADS:-\${SLURM_CPUS_PER_TASK:-1}}
ID=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" ${listFile})
exec ${Deno.execPath()} run -A ${CLI} sweep run-one ${s.specPath} "$ID"
`;
}

/** Runs a command to completion, quietly: success, stdout, stderr (a missing binary is a failure). */
export function runCommand(
  cmd: string,
  ...args: string[]
): { ok: boolean; out: string; err: string } {
  try {
    const r = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).outputSync();
    return {
      ok: r.success,
      out: new TextDecoder().decode(r.stdout),
      err: new TextDecoder().decode(r.stderr),
    };
  } catch (e) {
    return { ok: false, out: "", err: (e as Error).message };
  }
}

/** Slurm job name of a sweep (what `squeue -n` finds after a driver restart). */
export const slurmJobName = (s: ExpandedSweep) => `spahgc-${s.spec.name}`.slice(0, 64);

/** Job ids of this sweep still queued or running. */
export function slurmJobs(s: ExpandedSweep): string[] {
  const r = runCommand("squeue", "-h", "-n", slurmJobName(s), "-o", "%A");
  if (!r.ok) throw new DataError(`squeue failed: ${r.err.trim() || "is Slurm reachable?"}`);
  return [...new Set(r.out.split("\n").map((l) => l.trim()).filter((l) => l))];
}

/**
 * Submits pending runs as a job array, waits for it (and for arrays a previous driver left
 * running), resubmits failed runs up to `retries` times. `dryRun` returns the script unsubmitted.
 */
export async function runSlurm(
  s: ExpandedSweep,
  o: RunnerOptions & { dryRun?: boolean; pollSeconds?: number } = {},
): Promise<RunnerReport & { script?: string; jobs: string[] }> {
  const log = o.log ?? ((l: string) => console.error(l));
  const t0 = performance.now();
  const start = sweepStatus(s);
  const slurmDir = join(s.dir, "slurm");
  Deno.mkdirSync(join(slurmDir, "logs"), { recursive: true });
  const jobs: string[] = [];
  const jobName = slurmJobName(s);
  if (o.dryRun) {
    const listFile = join(slurmDir, "pending-dry-run.txt");
    writeFileAtomic(listFile, start.pending.map((r) => r.id).join("\n") + "\n");
    return {
      runner: "slurm",
      total: start.total,
      ran: 0,
      skipped: start.done,
      failed: [],
      seconds: 0,
      jobs,
      script: start.pending.length
        ? slurmScript(s, start.pending, listFile, { maxParallel: o.maxParallel, jobName })
        : "# nothing to run: every run of the sweep has a result\n",
    };
  }
  const wait = async (ids: string[]) => {
    while (true) {
      const left = slurmJobs(s).filter((j) => ids.includes(j));
      if (!left.length) return;
      log(progressLine(s, t0, start.done) + ` (Slurm job ${left.join(", ")})`);
      await new Promise((r) => setTimeout(r, (o.pollSeconds ?? 2) * 1000));
    }
  };
  // A previous driver's arrays may still be running: wait for them rather than duplicate runs.
  const inFlight = slurmJobs(s);
  if (inFlight.length) {
    log(
      `sweep ${s.spec.name}: waiting for Slurm job(s) ${
        inFlight.join(", ")
      } from an earlier submission`,
    );
    await wait(inFlight);
  }
  let attempt = 0;
  while (true) {
    const pending = sweepStatus(s).pending;
    if (!pending.length || attempt > (o.retries ?? 2)) break;
    const listFile = join(slurmDir, `pending-${Date.now()}.txt`);
    writeFileAtomic(listFile, pending.map((r) => r.id).join("\n") + "\n");
    const script = join(slurmDir, `array-${Date.now()}.sh`);
    writeFileAtomic(
      script,
      slurmScript(s, pending, listFile, { maxParallel: o.maxParallel, jobName }),
    );
    const sub = runCommand("sbatch", "--parsable", script);
    if (!sub.ok) throw new DataError(`sbatch failed: ${sub.err.trim()}`, { file: script });
    const job = sub.out.trim().split(";")[0];
    jobs.push(job);
    log(
      `sweep ${s.spec.name}: submitted ${pending.length} run(s) as Slurm job array ${job}${
        attempt ? ` (retry ${attempt})` : ""
      }`,
    );
    await wait([job]);
    attempt++;
  }
  const failed = sweepStatus(s).pending.map((r) => r.id);
  if (failed.length) {
    log(
      `  ${failed.length} run(s) failed after ${attempt} submission(s); logs in ${
        join(slurmDir, "logs")
      }`,
    );
  }
  return {
    runner: "slurm",
    total: start.total,
    ran: start.pending.length - failed.length,
    skipped: start.done,
    failed,
    seconds: (performance.now() - t0) / 1000,
    jobs,
  };
}
