// The integration tier's guard: other programs run, a whole worker process is refused.
import { execa } from "execa";
import { describe, expect, it } from "vitest";

describe("integration tier", () => {
  it("runs other programs, and refuses npm start's program (a whole worker belongs in a system test)", async () => {
    expect((await execa("node", ["-e", "process.stdout.write('ran')"])).stdout).toBe("ran");
    expect(() => execa("node", ["--import", "tsx", "handler/main.ts"])).toThrow(/\*\.system\.test\.ts/);
    expect(() => execa("node", ["--import", "tsx", "scripts/chaos.ts", "--quick"])).toThrow(/no whole worker process/);
  });
});
