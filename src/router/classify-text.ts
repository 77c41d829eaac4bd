// Parses and classifies one SQL text, uncached: the classifier's miss path, here and in the parser thread.
import { parseSql } from '../sql/parser.js';
import { classifyStatement } from './classify-statement.js';
import { mergeVerdicts } from './merge-verdicts.js';
import { statementObjects } from './statement-objects.js';
import type { StatementInfo } from './statement-info.js';

/** A classification, and whether it holds for every text of the same shape (no literal shaped it). */
export interface Classified {
  info: StatementInfo;
  shapeSafe: boolean;
}

/** Classifies a text by its parse; `functions` are normalized by normalizeFunctionNames. The result is frozen. */
export function classifyText(sql: string, functions: ReadonlySet<string>): Classified {
  const parsed = parseSql(sql);
  // PostgreSQL may accept what this parser version does not; only the primary is safe for it.
  if (!parsed.ok) return { info: unparseable(), shapeSafe: false };
  const verdicts = parsed.statements.map((node, index) => classifyStatement(node, { sql, index, functions }));
  const objects = statementObjects(parsed.statements);
  const sideEffect = verdicts.some((v) => v.reason.startsWith('side-effect-function'));
  const info = deepFreeze({
    ...mergeVerdicts(verdicts),
    objects: sideEffect ? { ...objects, writes: [...objects.writes, '*'] } : objects,
  });
  const shapeSafe = !verdicts.some((v) => v.literalSensitive) && !info.sets && !info.routeOverride;
  return { info, shapeSafe };
}

/** What a text the parser refuses is: a write, for the primary. */
export function unparseable(): StatementInfo {
  return deepFreeze({ access: 'write', reason: 'unparseable', statementCount: 1 });
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
