// A bound on how long the cache waits for Redis: past it, the statement or commit goes on without the cache.

export class RedisTimeout extends Error {
  constructor(ms: number) {
    super(`redis did not answer within ${ms} ms`);
    this.name = 'RedisTimeout';
  }
}

/** Settles like `work`, or rejects with RedisTimeout after `ms`; a late failure of `work` is then ignored. */
export function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisTimeout(ms)), ms);
  });
  work.catch(() => {});
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
