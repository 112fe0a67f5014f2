/**
 * The library's layering: no import cycle between modules, and none between folders (types
 * below readers, readers below datasets, methods below the runner). The graph is Deno's own
 * (`deno info --json`), so type-only and dynamic imports count too.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { PROJECT_ROOT } from "../lib/paths.ts";

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
}

/** lib-relative module → lib-relative modules it imports (lib only). */
function libGraph(): Map<string, Set<string>> {
  const lib = join(PROJECT_ROOT, "lib");
  const info = (root: string) => {
    const out = new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", join(lib, root)],
      cwd: PROJECT_ROOT,
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    return (JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: InfoModule[] }).modules;
  };
  const local = (spec?: string) => {
    if (!spec?.startsWith("file://")) return undefined;
    const r = relative(lib, new URL(spec).pathname);
    return r.startsWith("..") ? undefined : r;
  };
  const g = new Map<string, Set<string>>();
  const add = (modules: InfoModule[]) => {
    for (const m of modules) {
      const from = local(m.specifier);
      if (!from) continue;
      const deps = new Set<string>();
      for (const d of m.dependencies ?? []) {
        for (const s of [d.code?.specifier, d.type?.specifier]) {
          const to = local(s);
          if (to && to !== from) deps.add(to);
        }
      }
      g.set(from, deps);
    }
  };
  // Roots: the barrel, the command line, then whatever neither reaches (workers, scripts).
  for (const root of ["mod.ts", "cli/main.ts", ...libFiles(lib)]) {
    if (!g.has(root)) add(info(root));
  }
  return g;
}

function libFiles(dir: string, base = dir): string[] {
  return [...Deno.readDirSync(dir)].flatMap((e) =>
    e.isDirectory
      ? libFiles(join(dir, e.name), base)
      : e.name.endsWith(".ts")
      ? [relative(base, join(dir, e.name))]
      : []
  ).sort();
}

/** Strongly connected components with more than one member (Tarjan). */
export function cycles(g: Map<string, Set<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>(), low = new Map<string, number>();
  const stack: string[] = [], on = new Set<string>(), out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) out.push(c.sort());
    }
  };
  for (const v of g.keys()) if (!idx.has(v)) visit(v);
  return out;
}

Deno.test("layering: no import cycle between lib modules, nor between lib folders", () => {
  const g = libGraph();
  assert.deepEqual([...g.keys()].sort(), libFiles(join(PROJECT_ROOT, "lib")));
  assert.deepEqual(cycles(g), [], "module import cycles");
  // Folders: `lib/<folder>/…`; the top-level modules (errors, paths) are leaves, and `mod.ts`, the
  // barrel that re-exports everything, is above all folders.
  const folder = (m: string) => (m.includes("/") ? m.split("/")[0] : undefined);
  const fg = new Map<string, Set<string>>();
  const why = new Map<string, string>();
  for (const [from, deps] of g) {
    const a = folder(from);
    if (!a) continue;
    for (const to of deps) {
      const b = folder(to);
      if (!b || a === b) continue;
      if (!fg.has(a)) fg.set(a, new Set());
      fg.get(a)!.add(b);
      why.set(`${a}→${b}`, `${from} → ${to}`);
    }
  }
  const fc = cycles(fg);
  assert.deepEqual(
    fc,
    [],
    `folder cycles: ${
      fc.map((c) =>
        c.flatMap((a) => c.map((b) => why.get(`${a}→${b}`)).filter((x) => x)).join("; ")
      ).join(" | ")
    }`,
  );
  // The test can fail: a two-module cycle is found.
  assert.deepEqual(cycles(new Map([["a", new Set(["b"])], ["b", new Set(["a"])]])), [["a", "b"]]);
});
