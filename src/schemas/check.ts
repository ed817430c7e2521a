// Runs a compiled schema and turns its first failure into one sentence: the field (as a dotted
// path), what it must be (the schema's `expected`, written for people), and what came. Callers
// put the place in front (`state.json: config.learningRate must be …`, `--lr must be …`) and
// wrap it in their own coded error.
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';

export interface SchemaProblem {
  /** Dotted path of the field, `config.model.blocks[1].dilation`; '' for the value itself. */
  field: string;
  expected: string;
  got: unknown;
}

/** What a reader of records needs of a validator: the first problem of a value, if any. */
export interface ProblemFinder {
  problem(value: unknown): SchemaProblem | undefined;
}

export interface Validator<S extends TSchema> extends ProblemFinder {
  readonly schema: S;
  /** True when the value matches; narrows it to the schema's type. */
  check(value: unknown): value is Static<S>;
}

/** Compiles once at module load; checking is then a generated function with no allocation. */
export function compileValidator<S extends TSchema>(schema: S): Validator<S> {
  const compiled: TypeCheck<S> = TypeCompiler.Compile(schema);
  return {
    schema,
    check: (value): value is Static<S> => compiled.Check(value),
    problem(value) {
      if (compiled.Check(value)) return undefined;
      // The deepest failure names the field; a failing object also reports its own, vaguer error.
      let deepest: { path: string; schema: TSchema; value: unknown } | undefined;
      for (const error of compiled.Errors(value)) {
        if (!deepest || error.path.length > deepest.path.length) deepest = error;
      }
      if (!deepest) return { field: '', expected: describeSchema(schema), got: value };
      return { field: dottedPath(deepest.path), expected: describeSchema(deepest.schema), got: deepest.value };
    },
  };
}

/** `field must be expected, got value`, the sentence every schema error ends with. */
export function describeProblem(problem: SchemaProblem, fieldName = problem.field || 'the value'): string {
  const got = problem.got === undefined ? 'nothing (the field is missing)' : JSON.stringify(problem.got);
  return `${fieldName} must be ${problem.expected}, got ${got}`;
}

/** '/config/model/blocks/1/dilation' → 'config.model.blocks[1].dilation'. */
export function dottedPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

function describeSchema(schema: TSchema): string {
  const expected = (schema as { expected?: unknown }).expected;
  if (typeof expected === 'string') return expected;
  if (typeof schema.description === 'string') return schema.description;
  return String(schema.type ?? 'a valid value');
}
