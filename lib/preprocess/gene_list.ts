/**
 * A gene list as researchers keep one: `A,B,C` on the command line, a text file (one gene per
 * line; `#` comments and blank lines ignored; the first column of a CSV/TSV), or JSON — a list, or
 * the `{ "genes": [...] }` that `spahgc hvg --json` prints.
 */
import { DataError } from "../errors.ts";
import { exists } from "../io/files.ts";

/**
 * The genes `spec` names (a path when such a file exists, else a comma-separated list).
 *
 * @example
 * ```ts
 * readGeneList("ERBB2,FASN");       // ["ERBB2", "FASN"]
 * readGeneList("genes.json");       // the "genes" of `spahgc hvg --json > genes.json`
 * ```
 */
export function readGeneList(spec: string): string[] {
  if (!exists(spec)) {
    const genes = spec.split(",").map((g) => g.trim()).filter((g) => g !== "");
    if (!genes.length) throw new DataError(`--genes '${spec}': no gene names`);
    return genes;
  }
  const text = Deno.readTextFileSync(spec);
  if (/^\s*[[{]/.test(text)) {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw new DataError(`not valid JSON: ${(e as Error).message}`, { file: spec });
    }
    const list = Array.isArray(v) ? v : (v as { genes?: unknown }).genes;
    if (!Array.isArray(list) || !list.every((g) => typeof g === "string")) {
      throw new DataError(
        'expected a JSON list of gene names or an object with "genes" (as `spahgc hvg --json` writes)',
        { file: spec },
      );
    }
    if (!list.length) throw new DataError("the gene list is empty", { file: spec });
    return list;
  }
  const genes: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const g = line.replace(/#.*/, "").split(/[,\t]/)[0].trim();
    if (g === "") return;
    if (/\s/.test(g)) {
      throw new DataError(`'${g}' is not a gene name (one name per line)`, {
        file: spec,
        line: i + 1,
      });
    }
    genes.push(g);
  });
  if (!genes.length) throw new DataError("the gene list is empty", { file: spec });
  return genes;
}
