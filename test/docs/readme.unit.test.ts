import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { updateReadme } from "../../scripts/config-table.ts";
import { settingsShape } from "../../handler/config/schema.ts";

describe("README", () => {
  const readme = readFileSync("README.md", "utf8");

  it("has a configuration table in sync with the schema (npm run config:table)", () => {
    expect(updateReadme(readme)).toBe(readme);
    for (const name of Object.keys(settingsShape)) expect(readme).toContain(`\`${name}\``);
  });

  it("gives the two quick-start command lines, and .ci/run runs the test line", () => {
    const ci = readFileSync(".ci/run", "utf8");
    expect(readme).toContain("npm run setup && npm start");
    expect(readme).toContain("npm run setup -- --tests && npm test");
    expect(ci).toContain("npm run setup -- --tests && npm test");
  });
});
