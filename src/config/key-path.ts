// Key paths in config error messages, written the way a user reads YAML: a.b[0].c.

export type Path = readonly PropertyKey[];

/** a.b[0].c; keys that are not plain words are quoted: databases["my.db"]. */
export function formatPath(path: Path): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(String(key))) text += text ? `.${String(key)}` : String(key);
    else text += `[${JSON.stringify(String(key))}]`;
  }
  return text || '(top level)';
}
