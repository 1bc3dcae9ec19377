// Small builders for environment settings: every field carries its doc and an example,
// which feed both the error messages and the README's configuration table.
import { z } from "zod";
import { Secret } from "./secret.ts";

export interface FieldMeta {
  doc: string;
  example: string;
  secret?: boolean;
}

const metaOf = new WeakMap<z.ZodType, FieldMeta>();

export function describe<T extends z.ZodType>(schema: T, meta: FieldMeta): T {
  metaOf.set(schema, meta);
  return schema;
}

export function fieldMeta(schema: z.ZodType): FieldMeta | undefined {
  return metaOf.get(schema);
}

const emptyToUndefined = (v: unknown) => (v === "" ? undefined : v);

export function int(meta: FieldMeta & { default: number; min?: number; max?: number }) {
  let n = z.coerce.number({ error: "must be a number" }).int("must be a whole number");
  if (meta.min !== undefined) n = n.min(meta.min, `must be >= ${meta.min}`);
  if (meta.max !== undefined) n = n.max(meta.max, `must be <= ${meta.max}`);
  return describe(z.preprocess(emptyToUndefined, n.default(meta.default)), meta);
}

export function num(meta: FieldMeta & { default: number; min?: number; max?: number }) {
  let n = z.coerce.number({ error: "must be a number" });
  if (meta.min !== undefined) n = n.min(meta.min, `must be >= ${meta.min}`);
  if (meta.max !== undefined) n = n.max(meta.max, `must be <= ${meta.max}`);
  return describe(z.preprocess(emptyToUndefined, n.default(meta.default)), meta);
}

export function bool(meta: FieldMeta & { default: boolean }) {
  const b = z.enum(["true", "false", "1", "0", "yes", "no"], { error: "must be true or false" }).transform((v) => v === "true" || v === "1" || v === "yes");
  return describe(
    z.preprocess((v) => (v === "" || v === undefined ? String(meta.default) : typeof v === "string" ? v.toLowerCase() : v), b),
    meta,
  );
}

export function str(meta: FieldMeta & { default: string }) {
  return describe(z.preprocess(emptyToUndefined, z.string().default(meta.default)), meta);
}

export function optionalStr(meta: FieldMeta) {
  return describe(z.preprocess(emptyToUndefined, z.string().optional()), meta);
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T, meta: FieldMeta & { default: T[number] }) {
  return describe(z.preprocess(emptyToUndefined, z.enum(values, { error: `must be one of ${values.join(", ")}` }).default(meta.default as never)), meta);
}

export function url(meta: FieldMeta & { optional: true }) {
  return describe(z.preprocess(emptyToUndefined, z.url({ error: "must be an http(s) URL", protocol: /^https?$/ }).optional()), meta);
}

export function secret(meta: Omit<FieldMeta, "secret">) {
  return describe(
    z.preprocess(
      emptyToUndefined,
      z
        .string()
        .transform((v) => new Secret(v))
        .optional(),
    ),
    { ...meta, secret: true },
  );
}
