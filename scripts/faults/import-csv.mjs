// The CSV reader of the fault proxy's import-jobs mode (import-jobs.mjs): a user import file
// as Cognito's user import job reads it, as far as the documentation says.
//
// Two ways to carry a comma inside a value are read:
//   - RFC 4180 quoting: a field in double quotes may hold commas, line breaks and doubled
//     double quotes ("" for ").  https://www.rfc-editor.org/rfc/rfc4180#section-2
//   - the Cognito guide's own rule for unquoted values: "If an attribute value contains a
//     comma, you must put a backslash (\) before the comma", next to "Attribute values that
//     are strings should not be in quotation marks".
//     https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-using-import-tool-csv-header.html
// Which of the two real Cognito takes (and whether it keeps quotes literally) has not been
// compared with the real service: see docs/cognito-emulators.md. Inside quotes a backslash is
// an ordinary character; outside quotes only "\," is special.

/** A file Cognito "is unable to parse": the job fails (not a row). */
export class CsvSyntaxError extends Error {
  /** @param {string} message @param {number} line */
  constructor(message, line) {
    super(`${message} (line ${line})`);
    this.name = 'CsvSyntaxError';
    this.line = line;
  }
}

/** Characters (code points, not UTF-16 units) of `text`. */
export const characters = (text) => {
  let n = 0;
  for (const _ of text) n++;
  return n;
};

/**
 * Every record of `text`: its fields, the physical line it starts on (1 = the header) and its
 * length in characters without the line break (the 16,000-character row rule measures that).
 * A line break is CRLF or LF. Empty lines are no records.
 * @param {string} text
 * @returns {{ fields: string[], line: number, length: number }[]}
 */
export function parseCsv(text) {
  const records = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const start = i;
    const startLine = line;
    const fields = [];
    let field = '';
    let quoted = false; // inside a quoted field
    let wasQuoted = false; // the current field began with a quote
    let end = -1; // index of the line break that ends the record
    for (;;) {
      if (i >= n) {
        if (quoted) throw new CsvSyntaxError('a quoted field is not closed', startLine);
        end = n;
        break;
      }
      const c = text[i];
      if (quoted) {
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          quoted = false;
          i++;
          const next = text[i];
          if (i < n && next !== ',' && next !== '\n' && !(next === '\r' && text[i + 1] === '\n'))
            throw new CsvSyntaxError('a quoted field is followed by something other than a comma', line);
          continue;
        }
        if (c === '\n') line++;
        field += c;
        i++;
        continue;
      }
      if (c === '"' && field === '' && !wasQuoted) {
        quoted = true;
        wasQuoted = true;
        i++;
        continue;
      }
      if (c === '\\' && text[i + 1] === ',') {
        field += ',';
        i += 2;
        continue;
      }
      if (c === ',') {
        fields.push(field);
        field = '';
        wasQuoted = false;
        i++;
        continue;
      }
      if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
        end = i;
        i += c === '\n' ? 1 : 2;
        line++;
        break;
      }
      field += c;
      i++;
    }
    fields.push(field);
    if (end === start) continue; // an empty line
    records.push({ fields, line: startLine, length: characters(text.slice(start, end)) });
  }
  return records;
}

/** RFC 4180 text of one record (for tests and the standalone tool): quotes what needs it. */
export const csvLine = (values) =>
  values.map((v) => (/[",\r\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v))).join(',');
