import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildLdLibraryPath, nvidiaLibDirs, resolveSidecarPython, sidecarLibraryEnv, sitePackagesOf } from "../../handler/preflight/library-path.ts";
import { checkLibraries } from "../../handler/preflight/python-tiers.ts";
import { basePython, CUBLAS12, LibStore, makeHost, makeRoot, type Host } from "./host.ts";

let root: string;
let store: LibStore;
let h: Host;

beforeAll(() => {
  root = makeRoot();
  store = new LibStore(root);
  h = makeHost(root, store, basePython(), {
    nvidiaSmi: null,
    ct2Version: null,
    pipLibs: { "nvidia/cublas/lib": CUBLAS12, "nvidia/cuda_runtime/lib": ["libcudart.so.12"] },
  });
  mkdirSync(join(h.sitePackages, "nvidia", "not_a_lib_package")); // no lib/ inside: skipped
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("LD_LIBRARY_PATH for the sidecar", () => {
  it("asks the interpreter for its site-packages (the venv's first)", async () => {
    const sp = await sitePackagesOf(h.python, { env: h.env, timeoutMs: 20_000 });
    expect(sp[0]).toBe(h.sitePackages);
  });

  it("finds site-packages/nvidia/*/lib and puts them before the existing value", async () => {
    const lib = await sidecarLibraryEnv(h.python, { ...h.env, LD_LIBRARY_PATH: "/opt/other/lib:" }, { timeoutMs: 20_000 });
    const cublas = join(h.sitePackages, "nvidia", "cublas", "lib");
    const cudart = join(h.sitePackages, "nvidia", "cuda_runtime", "lib");
    expect(lib.libDirs).toEqual([cublas, cudart]);
    expect(lib.LD_LIBRARY_PATH).toBe(`${cublas}:${cudart}:/opt/other/lib`);
  });

  it("a child spawned with that value loads the pip library; without it, it cannot", async () => {
    const lib = await sidecarLibraryEnv(h.python, h.env, { timeoutMs: 20_000 });
    const withPath = await checkLibraries(["libcublas.so.12"], {
      python: h.python,
      env: { ...h.env, LD_LIBRARY_PATH: lib.LD_LIBRARY_PATH },
      timeoutMs: 20_000,
    });
    expect(withPath.status === "ok" && withPath.report.libraries[0]).toMatchObject({
      ok: true,
      path: join(h.sitePackages, "nvidia/cublas/lib/libcublas.so.12"),
    });
    const without = await checkLibraries(["libcublas.so.12"], { python: h.python, env: h.env, timeoutMs: 20_000 });
    const failed = without.status === "ok" ? without.report.libraries[0] : undefined;
    expect(failed?.ok).toBe(false);
    expect(failed?.error).toContain("libcublas.so.12: cannot open shared object file");
  });

  it("an interpreter that does not exist is a clear WorkerError", async () => {
    await expect(sitePackagesOf(join(root, "no-python"), { env: h.env, timeoutMs: 20_000 })).rejects.toMatchObject({ code: "sidecar_python_unusable" });
  });

  it("pure helpers", () => {
    expect(buildLdLibraryPath(["/a", "/b"], "/b:/c")).toBe("/a:/b:/c");
    expect(buildLdLibraryPath([], undefined)).toBe("");
    expect(nvidiaLibDirs([join(root, "missing")])).toEqual([]);
    expect(resolveSidecarPython("/opt/venv/bin/python", root)).toBe("/opt/venv/bin/python");
    expect(resolveSidecarPython(undefined, root)).toBe("python3");
  });
});
