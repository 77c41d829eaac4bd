// Wording for an unknown config key, with the closest known key as a suggestion.
import { formatPath, type Path } from './key-path.js';
import { configJsonSchema } from './json-schema.js';

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}

type JsonNode = { properties?: Record<string, JsonNode>; additionalProperties?: unknown; items?: JsonNode };

function knownKeys(path: Path): string[] {
  let node: JsonNode | undefined = configJsonSchema() as JsonNode;
  for (const key of path) {
    if (!node) return [];
    if (typeof key === 'number') node = node.items;
    else {
      const extra: JsonNode | undefined =
        typeof node.additionalProperties === 'object' ? (node.additionalProperties as JsonNode) : undefined;
      node = node.properties?.[String(key)] ?? extra;
    }
  }
  return Object.keys(node?.properties ?? {});
}

/** Names the unknown key and the key most likely meant, so a typo is obvious. */
export function unknownKey(path: Path, key: string): string {
  const known = knownKeys(path);
  const close = known.filter((name) => editDistance(name, key) <= Math.max(1, Math.floor(name.length / 4)));
  const hint =
    close.length > 0 ? `did you mean ${close.join(' or ')}?` : `expected one of ${known.join(', ')}`;
  return `${formatPath([...path, key])}: unknown key (${hint})`;
}
