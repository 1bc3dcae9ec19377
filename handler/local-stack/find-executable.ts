import { accessSync, constants } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";

/** PATH lookup without a shell; sbin folders added because Debian puts some servers there. */
export function findExecutable(name: string, extraDirs: string[] = ["/usr/sbin", "/usr/local/sbin", "/sbin"]): string | null {
  const candidates =
    isAbsolute(name) || name.includes("/") ? [name] : [...(process.env.PATH ?? "").split(delimiter).filter(Boolean), ...extraDirs].map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here; keep looking
    }
  }
  return null;
}
