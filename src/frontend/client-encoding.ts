// PostgreSQL's canonical names of the client encodings, which ParameterStatus reports whatever alias a client used.

/** Canonical names whose alias is the name itself once cleaned (lower case, letters and digits only). */
const canonical = [
  'SQL_ASCII',
  'EUC_JP',
  'EUC_CN',
  'EUC_KR',
  'EUC_TW',
  'EUC_JIS_2004',
  'UTF8',
  'MULE_INTERNAL',
  'LATIN1',
  'LATIN2',
  'LATIN3',
  'LATIN4',
  'LATIN5',
  'LATIN6',
  'LATIN7',
  'LATIN8',
  'LATIN9',
  'LATIN10',
  'WIN1250',
  'WIN1251',
  'WIN1252',
  'WIN1253',
  'WIN1254',
  'WIN1255',
  'WIN1256',
  'WIN1257',
  'WIN1258',
  'WIN866',
  'WIN874',
  'KOI8R',
  'KOI8U',
  'ISO_8859_5',
  'ISO_8859_6',
  'ISO_8859_7',
  'ISO_8859_8',
  'SJIS',
  'BIG5',
  'GBK',
  'UHC',
  'GB18030',
  'JOHAB',
  'SHIFT_JIS_2004',
];

/** Other spellings PostgreSQL accepts (its alias table, cleaned) and the encoding each names. */
const aliases: Record<string, string> = {
  abc: 'WIN1258',
  alt: 'WIN866',
  iso88591: 'LATIN1',
  iso88592: 'LATIN2',
  iso88593: 'LATIN3',
  iso88594: 'LATIN4',
  iso88599: 'LATIN5',
  iso885910: 'LATIN6',
  iso885913: 'LATIN7',
  iso885914: 'LATIN8',
  iso885915: 'LATIN9',
  iso885916: 'LATIN10',
  koi8: 'KOI8R',
  mskanji: 'SJIS',
  shiftjis: 'SJIS',
  tcvn: 'WIN1258',
  tcvn5712: 'WIN1258',
  unicode: 'UTF8',
  vscii: 'WIN1258',
  win: 'WIN1251',
  win932: 'SJIS',
  win936: 'GBK',
  win949: 'UHC',
  win950: 'BIG5',
  windows932: 'SJIS',
  windows936: 'GBK',
  windows949: 'UHC',
  windows950: 'BIG5',
};

const clean = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, '');

const byCleanName = new Map<string, string>();
for (const name of canonical) {
  byCleanName.set(clean(name), name);
  // PostgreSQL also takes "windows1252" for WIN1252 and so on.
  if (name.startsWith('WIN')) byCleanName.set(`windows${name.slice(3)}`, name);
}
for (const [alias, name] of Object.entries(aliases)) byCleanName.set(alias, name);

/** The name PostgreSQL reports for a client encoding ("utf-8" -> "UTF8"); unknown names are kept as given. */
export function canonicalEncoding(name: string): string {
  return byCleanName.get(clean(name)) ?? name;
}
