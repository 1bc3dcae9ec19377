import { stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withJobDir } from "../../handler/audio/temp.ts";
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
});
