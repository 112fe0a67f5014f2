/**
 * Notebook parameters: a notebook's first cell declares its defaults, and a run overrides them
 * without editing the notebook through the environment:
 *   SPAHGC_PROFILE=quick|full        picks the profile block of the defaults
 *   SPAHGC_PARAMS='{"seed": 3}'      JSON object, or a path to a JSON file, merged last
 */
import { DataError } from "../errors.ts";

export type Profile = "quick" | "full";

export function notebookParams<T extends Record<string, unknown>>(
  defaults: T & { profiles?: Partial<Record<Profile, Partial<T>>> },
): T & { profile: Profile } {
  const profile = (Deno.env.get("SPAHGC_PROFILE") ?? "quick") as Profile;
  if (profile !== "quick" && profile !== "full") {
    throw new DataError(`SPAHGC_PROFILE is '${profile}', expected 'quick' or 'full'`);
  }
  const { profiles, ...base } = defaults;
  let override: Record<string, unknown> = {};
  const raw = Deno.env.get("SPAHGC_PARAMS");
  if (raw) {
    const textValue = raw.trim().startsWith("{") ? raw : Deno.readTextFileSync(raw);
    try {
      override = JSON.parse(textValue);
    } catch (e) {
      throw new DataError(`SPAHGC_PARAMS is not a JSON object: ${(e as Error).message}`, {
        file: raw.trim().startsWith("{") ? undefined : raw,
      });
    }
    for (const k of Object.keys(override)) {
      if (!(k in base)) {
        throw new DataError(
          `SPAHGC_PARAMS sets unknown parameter '${k}' (known: ${Object.keys(base).join(", ")})`,
        );
      }
    }
  }
  return { ...base, ...(profiles?.[profile] ?? {}), ...override, profile } as T & {
    profile: Profile;
  };
}

// Display lives below both the notebooks and the plots; re-exported for notebooks written against it.
export { display, displayTable, jupyterDisplay } from "../display.ts";
