// Types of import-csv.mjs (the import-jobs mode's CSV reader) for the TypeScript tests.
export class CsvSyntaxError extends Error {
  readonly line: number;
}
export function characters(text: string): number;
export function parseCsv(text: string): { fields: string[]; line: number; length: number }[];
export function csvLine(values: readonly unknown[]): string;
