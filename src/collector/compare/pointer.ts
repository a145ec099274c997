// JSON Pointer (RFC 6901) segments.

export function escapeSegment(key: string): string {
  if (key.indexOf('~') === -1 && key.indexOf('/') === -1) return key;
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function childPath(parent: string, key: string | number): string {
  return parent + '/' + (typeof key === 'number' ? String(key) : escapeSegment(key));
}

/** "" → [] (the whole document); "/a/b" → ["a", "b"]. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`JSON Pointer must be "" or start with "/": ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}
