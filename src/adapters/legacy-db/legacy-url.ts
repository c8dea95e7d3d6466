// The legacy database URL's scheme is the one switch between adapters (no separate dialect
// setting that could disagree with it). Kept free of imports: the config schema uses it.
export type LegacyDialect = 'postgres' | 'mysql';

export const LEGACY_URL_PATTERN = /^(postgres|postgresql|mysql|mariadb):\/\//;
export const LEGACY_URL_EXPECTED = 'expected a postgres://, postgresql://, mysql:// or mariadb:// URL';

export const legacyDialectOf = (url: string): LegacyDialect | undefined => {
  const scheme = LEGACY_URL_PATTERN.exec(url)?.[1];
  if (scheme === undefined) return undefined;
  return scheme.startsWith('postgres') ? 'postgres' : 'mysql';
};
