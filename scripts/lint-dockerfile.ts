// npm run lint:docker [-- FILE...]: lints Dockerfiles (default ./Dockerfile) with dockerfile-utils,
// the validator behind the VS Code Docker language server: it parses the file as the Docker
// builder does and reports what the builder would reject (unknown instructions and flags, bad
// durations in HEALTHCHECK, malformed JSON arguments, missing stage names, undefined base-image
// variables...). Every warning it knows (several CMD/ENTRYPOINT/HEALTHCHECK in one stage, JSON
// written with single quotes, relative WORKDIR, lowercase instructions, MAINTAINER, empty
// continuation lines) is raised to an error here. Exit 0 clean, 1 problems, 2 unreadable file.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { validate, ValidationSeverity, type ValidatorSettings } from "dockerfile-utils";

const STRICT: Required<ValidatorSettings> = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};

export interface DockerfileProblem {
  line: number;
  column: number;
  message: string;
}

/** Every problem in the Dockerfile text, warnings included, in file order. */
export function lintDockerfile(content: string): DockerfileProblem[] {
  return validate(content, STRICT)
    .map((d) => ({ line: d.range.start.line + 1, column: d.range.start.character + 1, message: typeof d.message === "string" ? d.message : d.message.value }))
    .sort((a, b) => a.line - b.line || a.column - b.column);
}

function main(files: string[]): number {
  let problems = 0;
  for (const file of files.length > 0 ? files : ["Dockerfile"]) {
    let content: string;
    try {
      content = readFileSync(file, "utf8");
    } catch (err) {
      process.stderr.write(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})\n`);
      return 2;
    }
    for (const p of lintDockerfile(content)) {
      problems++;
      process.stdout.write(`${file}:${p.line}:${p.column}: ${p.message}\n`);
    }
  }
  if (problems === 0) process.stdout.write("Dockerfile lint: no problems\n");
  return problems === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exit(main(process.argv.slice(2)));
