// The integration tier's guard: other programs run, a whole worker process is refused (execa
// reports the refusal as its own rejection, with the guard's message).
import { execa } from "execa";
import { describe, expect, it } from "vitest";

describe("integration tier", () => {
  it("runs other programs, and refuses npm start's program (a whole worker belongs in a system test)", async () => {
    expect((await execa("node", ["-e", "process.stdout.write('ran')"])).stdout).toBe("ran");
    await expect(execa("node", ["--import", "tsx", "handler/main.ts"])).rejects.toThrow(/\*\.system\.test\.ts/);
    await expect(execa("node", ["--import", "tsx", "scripts/chaos.ts", "--quick"])).rejects.toThrow(/no whole worker process/);
  });
});
