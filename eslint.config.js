// Flat config: typescript-eslint's recommended type-aware rules, plus the few that catch
// the bugs this worker cares about (floating promises lose jobs; shell strings are banned elsewhere).
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
  { ignores: ["node_modules", "dist", "coverage", "sidecar", ".scratch", ".lint-venv", "**/*.py"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/require-await": "off",
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true, allowBoolean: true }],
    },
  },
  { files: ["eslint.config.js"], ...tseslint.configs.disableTypeChecked },
  // The dashboard's front-end: plain browser modules (no build step). User content only ever
  // goes in as text, so the HTML-parsing sinks are banned here.
  {
    files: ["handler/dashboard/public/**/*.js"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: globals.browser },
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      "no-restricted-properties": [
        "error",
        ...["innerHTML", "outerHTML"].map((property) => ({ property, message: "user content goes in as text: use textContent or dom.js's h()" })),
      ],
      "no-restricted-syntax": [
        "error",
        {
          selector: "CallExpression[callee.property.name=/^(insertAdjacentHTML|write|writeln|createContextualFragment)$/]",
          message: "no HTML parsing of data",
        },
      ],
    },
  },
);
