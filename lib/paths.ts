/** Where the project is: the one place that knows the library's position in the checkout. */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The project root (the folder holding deno.json). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
