// Paths into the mapping file as people write them: attributes.email.transform[1].

export type PathSegment = string | number;

export interface Issue {
  path: string;
  message: string;
}

const PLAIN_KEY = /^[^.[\]"\s]+$/;

export const formatPath = (segments: readonly PathSegment[]): string => {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
};

/** JSON Pointer (as Ajv reports it) -> segments; array indices become numbers by looking at the data. */
export const pointerToSegments = (pointer: string, data: unknown): PathSegment[] => {
  if (pointer === '') return [];
  const segments: PathSegment[] = [];
  let node: unknown = data;
  for (const token of pointer.slice(1).split('/')) {
    const key = token.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const index = Number(key);
      segments.push(index);
      node = node[index];
    } else {
      segments.push(key);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return segments;
};
