// Column values -> text. Cognito stores strings only, and the same value must always print the
// same way (or every replay would look like a change), so the conversion is fixed here.

/** A value that cannot become what the mapping asks for; the mapper turns it into a MappingError. */
export class InvalidValue extends Error {}

/** null for "no value" (SQL NULL or the empty string), text otherwise. */
export const toText = (value: unknown): string | null => {
  switch (typeof value) {
    case 'string':
      return value === '' ? null : value;
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidValue(`${value} is not a finite number`);
      return String(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return null;
    default:
      if (value === null) return null;
      if (value instanceof Date) return value.toISOString();
      throw new InvalidValue(`a ${Array.isArray(value) ? 'list' : typeof value} cannot be written as text`);
  }
};
