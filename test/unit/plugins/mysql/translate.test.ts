// The mysql plugin's translation from the PostgreSQL parse tree: the MySQL text, what each placeholder is bound to, and refusals.
import { beforeAll, describe, expect, it } from 'vitest';
import { PluginError } from '../../../../src/plugins/api.js';
import { dialectFor } from '../../../../src/plugins/builtin/mysql/handler.js';
import { loadParser } from '../../../../src/sql/parser.js';
import { render } from '../../../../src/plugins/builtin/mysql/fragments.js';
import { plan, translate } from './translate-helper.js';

beforeAll(() => loadParser());

const from = 'FROM `shop`.`items` AS `items`';
const cols = (...names: string[]) => names.map((n) => `\`items\`.\`${n}\` AS \`${n}\``).join(', ');

/** [PostgreSQL statement, MySQL statement, bound placeholders as `$n:type` or `"literal":type`]. */
const translated: [string, string, string[]][] = [
  [
    'SELECT id, name FROM legacy.items WHERE id = 1',
    `SELECT ${cols('id', 'name')} ${from} WHERE (\`items\`.\`id\` = 1)`,
    [],
  ],
  [
    'SELECT id FROM legacy.items WHERE id = $1',
    `SELECT ${cols('id')} ${from} WHERE (\`items\`.\`id\` = ?)`,
    ['$1:int4'],
  ],
  // Quoted literals are bound, never spliced; text compares by code point as PostgreSQL's "C" collation.
  [
    "SELECT name FROM legacy.items WHERE name = 'it''s'",
    `SELECT ${cols('name')} ${from} WHERE (\`items\`.\`name\` COLLATE utf8mb4_nopad_bin = ?)`,
    ['"it\'s":text'],
  ],
  [
    'SELECT name FROM legacy.items WHERE name = $1',
    `SELECT ${cols('name')} ${from} WHERE (\`items\`.\`name\` COLLATE utf8mb4_nopad_bin = ?)`,
    ['$1:text'],
  ],
  // NULLS LAST for ASC and NULLS FIRST for DESC, as PostgreSQL sorts; MySQL sorts NULL lowest.
  [
    'SELECT name FROM legacy.items ORDER BY qty LIMIT 10 OFFSET 5',
    `SELECT ${cols('name')} ${from} ORDER BY (\`items\`.\`qty\` IS NULL), \`items\`.\`qty\` LIMIT 10 OFFSET 5`,
    [],
  ],
  [
    'SELECT name FROM legacy.items ORDER BY qty DESC',
    `SELECT ${cols('name')} ${from} ORDER BY (\`items\`.\`qty\` IS NULL) DESC, \`items\`.\`qty\` DESC`,
    [],
  ],
  [
    'SELECT name FROM legacy.items ORDER BY qty DESC NULLS LAST',
    `SELECT ${cols('name')} ${from} ORDER BY \`items\`.\`qty\` DESC`,
    [],
  ],
  [
    'SELECT name FROM legacy.items ORDER BY qty NULLS FIRST',
    `SELECT ${cols('name')} ${from} ORDER BY \`items\`.\`qty\``,
    [],
  ],
  // A NOT NULL column needs no NULL probe.
  [
    'SELECT name FROM legacy.items ORDER BY 1 DESC',
    `SELECT ${cols('name')} ${from} ORDER BY \`items\`.\`name\` COLLATE utf8mb4_nopad_bin DESC`,
    [],
  ],
  [
    'SELECT name FROM legacy.items ORDER BY name OFFSET $1',
    `SELECT ${cols('name')} ${from} ORDER BY \`items\`.\`name\` COLLATE utf8mb4_nopad_bin LIMIT 18446744073709551615 OFFSET ?`,
    ['$1:int8'],
  ],
  ['SELECT name FROM legacy.items LIMIT $1', `SELECT ${cols('name')} ${from} LIMIT ?`, ['$1:int8']],
  ['SELECT name FROM legacy.items FETCH FIRST 2 ROWS ONLY', `SELECT ${cols('name')} ${from} LIMIT 2`, []],
  ['SELECT name FROM legacy.items LIMIT ALL', `SELECT ${cols('name')} ${from}`, []],
  [
    "SELECT name || '-' || note FROM legacy.items",
    `SELECT CONCAT(CONCAT(\`items\`.\`name\`, ?), \`items\`.\`note\`) AS \`?column?\` ${from}`,
    ['"-":text'],
  ],
  // concat() skips NULLs as PostgreSQL's does (MySQL's CONCAT would return NULL).
  [
    'SELECT concat(name, qty) FROM legacy.items',
    `SELECT CONCAT_WS('', \`items\`.\`name\`, \`items\`.\`qty\`) AS \`concat\` ${from}`,
    [],
  ],
  [
    "SELECT name FROM legacy.items WHERE name ILIKE 'a%'",
    `SELECT ${cols('name')} ${from} WHERE (CONVERT(LOWER(\`items\`.\`name\`) USING utf8mb4) COLLATE utf8mb4_nopad_bin LIKE LOWER(?))`,
    ['"a%":text'],
  ],
  [
    "SELECT name FROM legacy.items WHERE note NOT LIKE 'a\\%%'",
    `SELECT ${cols('name')} ${from} WHERE (\`items\`.\`note\` COLLATE utf8mb4_nopad_bin NOT LIKE ?)`,
    ['"a\\\\%%":text'],
  ],
  [
    "SELECT qty::text, price::int, big::numeric, qty::float8, '1'::int FROM legacy.items",
    `SELECT CAST(\`items\`.\`qty\` AS CHAR) AS \`qty\`, CAST(\`items\`.\`price\` AS SIGNED) AS \`price\`, \`items\`.\`big\` AS \`big\`, CAST(\`items\`.\`qty\` AS DOUBLE) AS \`qty\`, ? AS \`int4\` ${from}`,
    ['"1":int4'],
  ],
  [
    "SELECT name FROM legacy.items WHERE day = '2024-01-02'::date",
    `SELECT ${cols('name')} ${from} WHERE (\`items\`.\`day\` = CAST(? AS DATE))`,
    ['"2024-01-02":date'],
  ],
  // tinyint(1) is boolean both ways; a parameter compared with it is bound as a boolean.
  [
    'SELECT name FROM legacy.items WHERE active',
    `SELECT ${cols('name')} ${from} WHERE \`items\`.\`active\``,
    [],
  ],
  [
    'SELECT name FROM legacy.items WHERE active = $1',
    `SELECT ${cols('name')} ${from} WHERE (\`items\`.\`active\` = ?)`,
    ['$1:bool'],
  ],
  [
    'SELECT name FROM legacy.items WHERE qty IS DISTINCT FROM $1',
    `SELECT ${cols('name')} ${from} WHERE (NOT (\`items\`.\`qty\` <=> ?))`,
    ['$1:int4'],
  ],
  // now() and current_date in UTC, the session time zone of every pooled connection.
  ['SELECT now() FROM legacy.items', `SELECT UTC_TIMESTAMP(6) AS \`now\` ${from}`, []],
  [
    'SELECT name FROM legacy.items WHERE day = current_date',
    `SELECT ${cols('name')} ${from} WHERE (\`items\`.\`day\` = UTC_DATE())`,
    [],
  ],
  [
    'SELECT active, count(*) FROM legacy.items GROUP BY active HAVING count(*) > 1',
    `SELECT ${cols('active')}, COUNT(*) AS \`count\` ${from} GROUP BY \`items\`.\`active\` HAVING (COUNT(*) > 1)`,
    [],
  ],
  [
    'SELECT coalesce(qty, 0), nullif(qty, 3), count(DISTINCT qty) FROM legacy.items GROUP BY qty',
    `SELECT COALESCE(\`items\`.\`qty\`, 0) AS \`coalesce\`, NULLIF(\`items\`.\`qty\`, 3) AS \`nullif\`, COUNT(DISTINCT \`items\`.\`qty\`) AS \`count\` ${from} GROUP BY \`items\`.\`qty\``,
    [],
  ],
  [
    "SELECT CASE WHEN qty > 1 THEN 'a' ELSE 'b' END FROM legacy.items",
    `SELECT (CASE WHEN (\`items\`.\`qty\` > 1) THEN ? ELSE ? END) AS \`case\` ${from}`,
    ['"a":text', '"b":text'],
  ],
  [
    'SELECT lower(name), length(name) FROM legacy.items',
    `SELECT LOWER(\`items\`.\`name\`) AS \`lower\`, CHAR_LENGTH(\`items\`.\`name\`) AS \`length\` ${from}`,
    [],
  ],
  [
    'SELECT i.name, o.amount FROM legacy.items i LEFT JOIN legacy.orders o ON o.item_id = i.id WHERE o.line IS NULL',
    'SELECT `i`.`name` AS `name`, `o`.`amount` AS `amount` FROM (`shop`.`items` AS `i` LEFT JOIN `shop`.`orders` AS `o` ON (`o`.`item_id` = `i`.`id`)) WHERE (`o`.`line` IS NULL)',
    [],
  ],
  [
    'SELECT name FROM legacy.items WHERE id IN (1, 2) AND qty BETWEEN $1 AND 5',
    `SELECT ${cols('name')} ${from} WHERE ((\`items\`.\`id\` IN (1, 2)) AND (\`items\`.\`qty\` BETWEEN ? AND 5))`,
    ['$1:int4'],
  ],
  [
    'SELECT name FROM legacy.items WHERE EXISTS (SELECT 1 FROM legacy.orders o WHERE o.item_id = legacy.items.id)',
    `SELECT ${cols('name')} ${from} WHERE (EXISTS (SELECT 1 AS \`?column?\` FROM \`shop\`.\`orders\` AS \`o\` WHERE (\`o\`.\`item_id\` = \`items\`.\`id\`)))`,
    [],
  ],
  ['SELECT name FROM legacy.items FOR SHARE', `SELECT ${cols('name')} ${from} LOCK IN SHARE MODE`, []],
  [
    "INSERT INTO legacy.items (name, active, created) VALUES ('a', 't', '2024-01-01 10:00')",
    'INSERT INTO `shop`.`items` (`name`, `active`, `created`) VALUES (?, ?, ?)',
    ['"a":text', '"t":bool', '"2024-01-01 10:00":timestamp'],
  ],
  [
    'INSERT INTO legacy.items (name, qty) VALUES ($1, $2), ($3, NULL)',
    'INSERT INTO `shop`.`items` (`name`, `qty`) VALUES (?, ?), (?, ?)',
    ['$1:text', '$2:int4', '$3:text', 'null:int4'],
  ],
  ['INSERT INTO legacy.items DEFAULT VALUES', 'INSERT INTO `shop`.`items` () VALUES ()', []],
  // ON CONFLICT on the table's only unique key: MySQL's ON DUPLICATE KEY UPDATE means the same.
  [
    "INSERT INTO legacy.tags (tag, uses) VALUES ('x', 1) ON CONFLICT (tag) DO UPDATE SET uses = excluded.uses",
    'INSERT INTO `shop`.`tags` (`tag`, `uses`) VALUES (?, 1) ON DUPLICATE KEY UPDATE `tags`.`uses` = VALUES(`uses`)',
    ['"x":text'],
  ],
  [
    "INSERT INTO legacy.tags (tag) VALUES ('x') ON CONFLICT (tag) DO UPDATE SET uses = legacy.tags.uses + 1",
    'INSERT INTO `shop`.`tags` (`tag`) VALUES (?) ON DUPLICATE KEY UPDATE `tags`.`uses` = (`tags`.`uses` + 1)',
    ['"x":text'],
  ],
  [
    "UPDATE legacy.items SET qty = qty + 1, note = NULL WHERE name = 'a'",
    'UPDATE `shop`.`items` AS `items` SET `items`.`qty` = (`items`.`qty` + 1), `items`.`note` = ? WHERE (`items`.`name` COLLATE utf8mb4_nopad_bin = ?)',
    ['null:text', '"a":text'],
  ],
  [
    'UPDATE legacy.items SET active = true WHERE id = $1',
    'UPDATE `shop`.`items` AS `items` SET `items`.`active` = TRUE WHERE (`items`.`id` = ?)',
    ['$1:int4'],
  ],
  [
    'DELETE FROM legacy.items WHERE id = $1',
    'DELETE `items` FROM `shop`.`items` AS `items` WHERE (`items`.`id` = ?)',
    ['$1:int4'],
  ],
];

describe('mysql translation', () => {
  it.each(translated)('%s', (sql, mysqlSql, bound) => {
    expect(translate(sql)).toEqual({ sql: mysqlSql, bound });
  });

  it("compares text with the server's code-point collation: MariaDB's nopad_bin, MySQL 8's utf8mb4_0900_bin", () => {
    const sql = "SELECT name FROM legacy.items WHERE name = 'a'";
    expect(translate(sql, dialectFor('8.0.36')).sql).toContain('`items`.`name` COLLATE utf8mb4_0900_bin = ?');
    expect(translate(sql, dialectFor('10.11.6-MariaDB-0+deb12u1')).sql).toContain(
      'COLLATE utf8mb4_nopad_bin',
    );
  });

  it('types result columns as PostgreSQL would: tinyint(1) boolean, unsigned int widened, decimal with its typmod', () => {
    const columns = plan('SELECT active, stock, price, created, qty::text FROM legacy.items').columns!;
    expect(columns.map((c) => [c.name, c.type, c.typeModifier])).toEqual([
      ['active', 'bool', -1],
      ['stock', 'int8', -1],
      ['price', 'numeric', ((10 << 16) | 2) + 4],
      ['created', 'timestamp', -1],
      ['qty', 'text', -1],
    ]);
  });

  it('reads back RETURNING rows by the generated key, or by the key the statement gave', () => {
    expect(
      plan("INSERT INTO legacy.items (name) VALUES ('a'), ('b') RETURNING id, name").readBack,
    ).toMatchObject({
      key: 'id',
      keys: 'generated',
    });
    const given = plan("INSERT INTO legacy.items (id, name) VALUES (7, 'a') RETURNING name").readBack!;
    expect(given.key).toBe('id');
    expect(given.keys).toHaveLength(1);
  });

  it('finds and locks the keys first for UPDATE/DELETE ... RETURNING, and runs the statement without its WHERE', () => {
    const update = plan('UPDATE legacy.items SET qty = $1 WHERE qty > 3 RETURNING name');
    expect(render(update.keyed!.find).sql).toBe(
      'SELECT `items`.`id` FROM `shop`.`items` AS `items` WHERE (`items`.`qty` > 3) FOR UPDATE',
    );
    expect(render(update.statement).sql).toBe('UPDATE `shop`.`items` AS `items` SET `items`.`qty` = ?');
    expect(update.keyed).toMatchObject({ key: 'id', readFirst: false });
    expect(plan('DELETE FROM legacy.items RETURNING id').keyed).toMatchObject({ readFirst: true });
  });

  it('counts the rows ON CONFLICT DO NOTHING skips instead of ignoring errors', () => {
    const { sql } = translate("INSERT INTO legacy.items (name) VALUES ('a') ON CONFLICT DO NOTHING");
    expect(sql).toContain(
      'ON DUPLICATE KEY UPDATE `shop`.`items`.`id` = IF((@polyproxy_skipped := @polyproxy_skipped + 1) IS NULL, NULL, `shop`.`items`.`id`)',
    );
    expect(sql).not.toContain('IGNORE');
    expect(plan("INSERT INTO legacy.items (name) VALUES ('a') ON CONFLICT DO NOTHING").countsSkipped).toBe(
      true,
    );
  });

  it('divides integers with DIV, and adds interval constants months first, then days, then time', () => {
    expect(translate('SELECT qty / 2 FROM legacy.items').sql).toContain('(`items`.`qty` DIV 2)');
    expect(translate("SELECT created - interval '1 month 2 days 03:00:00' FROM legacy.items").sql).toContain(
      'DATE_ADD(DATE_ADD(DATE_ADD(`items`.`created`, INTERVAL -1 MONTH), INTERVAL -2 DAY), INTERVAL -10800000000 MICROSECOND)',
    );
  });
});

/** [statement, words the 0A000 message must hold]. */
const refused: [string, string][] = [
  ['SELECT price / 2 FROM legacy.items', 'numeric division'],
  ['SELECT ratio % 2 FROM legacy.items', '% on float8'],
  ['SELECT avg(qty) + 1 FROM legacy.items', 'avg() of integers or numeric inside an expression'],
  ['SELECT round(price) FROM legacy.items', 'round()'],
  ['SELECT random() FROM legacy.items', 'random()'],
  ["SELECT string_agg(name, ',') FROM legacy.items", 'string_agg()'],
  ["SELECT date_trunc('decade', created) FROM legacy.items", 'date_trunc() to decade'],
  ["SELECT created + interval '1.5 months' FROM legacy.items", 'this interval'],
  ['SELECT name FROM legacy.items UNION SELECT uses FROM legacy.tags', 'UNION of text and int4'],
  ['WITH t AS (SELECT 1) SELECT name FROM legacy.items', 'WITH'],
  ['SELECT name FROM (SELECT name FROM legacy.items) s', 'RangeSubselect'],
  ['SELECT row_number() OVER () FROM legacy.items', 'window functions'],
  ['SELECT DISTINCT ON (active) name FROM legacy.items', 'DISTINCT ON'],
  ["SELECT name FROM legacy.items WHERE name ~ 'a'", 'operator ~'],
  ['SELECT name FROM legacy.items WHERE id = ANY($1)', 'OP_ANY'],
  ['SELECT count(*) FILTER (WHERE qty > 1) FROM legacy.items', 'FILTER'],
  ['SELECT name FROM legacy.items, public.t', 'mixing MySQL tables with PostgreSQL tables'],
  ['TRUNCATE legacy.items', 'Truncate statements'],
  ["INSERT INTO legacy.items (name) VALUES ('z') ON CONFLICT (name) DO NOTHING", 'several unique keys'],
  [
    "INSERT INTO legacy.items (name) VALUES ('z') ON CONFLICT (name) DO UPDATE SET qty = 1",
    'several unique keys',
  ],
  ['INSERT INTO legacy.orders (item_id, line) VALUES (1, 2) RETURNING amount', 'RETURNING'],
  ['UPDATE legacy.orders SET amount = 1 RETURNING line', 'without a one-column primary key'],
  ['DELETE FROM legacy.orders WHERE line = 1 RETURNING amount', 'without a one-column primary key'],
  [
    'UPDATE legacy.items SET qty = o.line FROM legacy.orders o WHERE o.item_id = legacy.items.id',
    'UPDATE ... FROM',
  ],
  ['UPDATE legacy.items SET qty = 1, price = qty WHERE false', 'SET reading "qty"'],
];

describe('mysql refusals', () => {
  it.each(refused)('%s', (sql, what) => {
    let caught: unknown;
    try {
      translate(sql);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PluginError);
    expect((caught as PluginError).sqlstate).toBe('0A000');
    expect((caught as PluginError).message).toContain(what);
  });

  it('reports unknown columns and tables as PostgreSQL does', () => {
    expect(() => translate('SELECT nope FROM legacy.items')).toThrow(
      expect.objectContaining({ sqlstate: '42703' }),
    );
    expect(() => translate('SELECT name FROM legacy.nothing')).toThrow(
      expect.objectContaining({ sqlstate: '42P01' }),
    );
  });
});
