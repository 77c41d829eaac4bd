// Values for constants and $n parameters, converted by the type of what they are compared with or stored in.
import type { ConstExpr, FieldExpr, ParamExpr } from './expressions.js';
import { pgTypeOfOid, typeOids, type PgType } from './pg-types.js';
import { comparableFromText, idFromText, valueFromText, type ValueOptions } from './sql-values.js';
import { pluginError } from './errors.js';

export class Bindings {
  /** Parameter types learnt from what each parameter meets, reported by Describe. */
  private readonly learnt: (PgType | undefined)[] = [];

  constructor(
    readonly options: ValueOptions,
    /** Text-form values; null while describing a statement that has no values yet. */
    private readonly params: readonly (string | null)[] | null,
    private readonly clientTypes: readonly number[],
  ) {}

  private text(expr: ConstExpr | ParamExpr, type: PgType): string | null {
    if (expr.kind === 'const') return expr.text;
    const index = expr.number - 1;
    this.learnt[index] ??= pgTypeOfOid(this.clientTypes[index] ?? 0) ?? expr.type ?? type;
    if (this.params === null) return null;
    if (index >= this.params.length)
      throw pluginError('protocolViolation', `there is no parameter $${expr.number}`);
    return this.params[index];
  }

  /** The type a value is read as: the cast on it when the field is untyped JSON, else the field's type. */
  private typeFor(expr: ConstExpr | ParamExpr, type: PgType): PgType {
    return type === 'jsonb' && expr.type && expr.type !== 'jsonb' ? expr.type : type;
  }

  /** Planning for Describe: values are unknown, so whatever depends on them is checked at Execute. */
  get describing(): boolean {
    return this.params === null;
  }

  /** The type the client declared for a parameter in Parse, if we map it. */
  clientTypeOf(number: number): PgType | undefined {
    return pgTypeOfOid(this.clientTypes[number - 1] ?? 0);
  }

  /** A value to compare `field` with, or null for SQL NULL. */
  comparable(expr: ConstExpr | ParamExpr, field: FieldExpr): unknown {
    const text = this.text(expr, field.type);
    if (text === null) return null;
    if (field.path.length === 1 && field.path[0] === '_id') return idFromText(text);
    return comparableFromText(text, this.typeFor(expr, field.type), this.options);
  }

  /** A value to store in a field of `type`, or null for SQL NULL. */
  storable(expr: ConstExpr | ParamExpr, type: PgType, isId = false): unknown {
    const text = this.text(expr, type);
    if (text === null) return null;
    if (isId) return idFromText(text);
    return valueFromText(text, this.typeFor(expr, type), this.options);
  }

  /** An integer for LIMIT/OFFSET; null means none. */
  count(expr: ConstExpr | ParamExpr, clause: string): number | null {
    const text = this.text(expr, 'int8');
    if (text === null) return null;
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < 0)
      throw pluginError(
        'invalidRowCountInLimitClause',
        `${clause} must not be negative or fractional: ${text}`,
      );
    return n;
  }

  /** OIDs for Describe: what the client gave, else what each parameter was compared with, else text. */
  paramOids(count: number): number[] {
    return Array.from({ length: count }, (_, i) => {
      const client = this.clientTypes[i] ?? 0;
      if (client !== 0) return client;
      return typeOids[this.learnt[i] ?? 'text'];
    });
  }
}
