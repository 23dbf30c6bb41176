// Pack access bounds for the sweep's git processes. git maps pack windows (1 GiB each by default
// on 64-bit) and keeps a delta base cache; on a large pack every page a lookup touches then
// counts against the process's resident size (a batch-check over 4,000 paths in a 450 MB pack
// reached 508 MB). Small windows under a small total keep each process near what it holds itself
// (the pack index, the commit-graph and its own heap), at no measured cost in speed.
export const PACK_BOUNDS: readonly string[] = [
  '-c',
  'core.packedGitWindowSize=16m',
  '-c',
  'core.packedGitLimit=64m',
  '-c',
  'core.deltaBaseCacheLimit=16m',
];
