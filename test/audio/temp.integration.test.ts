import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { execa } from "execa";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { removeOrphanJobDirs, withJobDir } from "../../handler/audio/temp.ts";
import { expectNoLeftovers, makeTempBase, removeTempBase } from "./helpers.ts";

let base: string;
beforeAll(async () => {
  base = await makeTempBase();
});
afterAll(async () => {
  await removeTempBase(base);
});

describe("per-job temp folder", () => {
  it("is private (0700) while the job runs and gone afterwards", async () => {
    let seen = "";
    const mode = await withJobDir(base, async (dir) => {
      seen = dir;
      await writeFile(join(dir, "input"), "x", { mode: 0o600 });
      return (await stat(dir)).mode & 0o777;
    });
    expect(mode).toBe(0o700);
    await expect(stat(seen)).rejects.toMatchObject({ code: "ENOENT" });
    await expectNoLeftovers(base);
  });

  it("is removed when the job throws", async () => {
    await expect(
      withJobDir(base, async (dir) => {
        await writeFile(join(dir, "input"), "x");
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    await expectNoLeftovers(base);
  });

  it("a later start removes folders of workers that were killed, and keeps live workers' ones", async () => {
    const dead = execa("true");
    await dead; // a pid that has exited
    await mkdir(join(base, `vw-audio-${dead.pid}-abc123`));
    await writeFile(join(base, `vw-audio-${dead.pid}-abc123`, "input"), "user audio");
    await mkdir(join(base, `vw-audio-${process.pid}-live01`));
    await mkdir(join(base, "unrelated-folder"));
    expect(await removeOrphanJobDirs(base)).toBe(1);
    expect((await readdir(base)).sort()).toEqual(["unrelated-folder", `vw-audio-${process.pid}-live01`]);
    await removeTempBase(base);
    base = await makeTempBase();
  });
});
