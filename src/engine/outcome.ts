// Shard answers as the client's result: one statement's rows and tag, and row counts summed over shards.
import type { ShardAnswer } from '../backend/shard-exec.js';
import type { Outcome } from './types.js';

/** One or more shard answers as the client's result: the first description, rows in shard order. */
export function outcomeOf(answers: ShardAnswer[]): Outcome {
  const first = answers[0];
  return {
    columns: answers.find((a) => a.columns)?.columns ?? null,
    rows: answers.flatMap((a) => a.rows),
    tag: first.empty ? null : first.tag,
  };
}

function tagCount(tag: string): number {
  return Number(/(\d+)$/.exec(tag)?.[1] ?? 0);
}

/** The first answer's tag with the row counts of all answers added up (INSERT 0 n, UPDATE n, ...). */
export function summedTag(answers: ShardAnswer[]): string {
  const total = answers.reduce((n, a) => n + tagCount(a.tag), 0);
  return answers[0].tag.replace(/\d+$/, String(total));
}

/** Shard numbers as EXPLAIN ROUTE prints them. */
export function shardList(shards: number[]): string {
  return `[${shards.join(',')}]`;
}
