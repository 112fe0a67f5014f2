/**
 * One fold of a run in its own process (`runExperiment` with `parallel` > 1 starts these): the
 * job — the run configuration restricted to the fold, the shared run folder, the cache — comes
 * as JSON in the first argument; the fold's results are written into the run folder.
 */
import { runExperiment } from "./run_config.ts";
import { WarningLog } from "../errors.ts";

const job = JSON.parse(Deno.args[0]);
try {
  await runExperiment(job.config, {
    out: job.out,
    cacheDir: job.cacheDir,
    keepCheckpoints: job.keepCheckpoints,
    warnings: new WarningLog(false),
    log: (line) => console.log(line),
  });
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  Deno.exit(1);
}
