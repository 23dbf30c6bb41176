// The kinds of ref a sweep lists (refs.ts); apart so the matrix contract stays node-free.
export type RefKind = 'branch' | 'remote' | 'tag';
