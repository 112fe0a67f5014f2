/**
 * The C kernels' build: compiled once per source and CPU into the project cache and reused;
 * without a working compiler the TypeScript kernels run and the status says why. (Their
 * arithmetic is tested against the TypeScript kernels and TF.js ops in model_test.ts and
 * backend_test.ts.)
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PROJECT_ROOT } from "../lib/mod.ts";
import { denoEval } from "./helpers.ts";

function probe(env: Record<string, string>): { on: boolean; status: string; ms: number } {
  return JSON.parse(denoEval(
    `import { nativeStatus, setNativeKernels } from "${join(PROJECT_ROOT, "lib/model/native.ts")}";
     const t = performance.now();
     const on = setNativeKernels(true);
     console.log(JSON.stringify({ on, status: nativeStatus, ms: performance.now() - t }));`,
    env,
  ));
}

Deno.test("C kernels: built once for this CPU and reused; a missing compiler falls back and says so", () => {
  if (Deno.build.os !== "linux" || Deno.env.get("SPAHGC_NATIVE") === "off") return;
  const first = probe({});
  assert.ok(first.on, first.status);
  assert.match(first.status, /^C \(cc -O3 -march=native\)$/);
  const again = probe({});
  assert.ok(again.on);
  // A second load finds the cached library: no compiler run (which takes ~0.3 s here).
  assert.ok(again.ms < 200, `second load took ${again.ms} ms`);
  const built = [...Deno.readDirSync(join(PROJECT_ROOT, ".cache", "native"))].map((e) => e.name);
  assert.ok(built.some((n) => /^kernels-[0-9a-f]{16}\.so$/.test(n)), built.join(", "));
  assert.ok(!built.some((n) => n.includes(".tmp-")), "a temporary build was left behind");

  const missing = probe({ CC: "/nonexistent/cc" });
  assert.equal(missing.on, false);
  assert.match(
    missing.status,
    /TypeScript \(C kernels unavailable: cannot run the C compiler '\/nonexistent\/cc'/,
  );
  const broken = probe({ CC: "false" });
  assert.equal(broken.on, false);
  assert.match(broken.status, /'false' failed on .*kernels\.c/);
  const off = probe({ SPAHGC_NATIVE: "off" });
  assert.deepEqual([off.on, off.status], [false, "disabled by SPAHGC_NATIVE"]);
});
