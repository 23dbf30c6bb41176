// nf_nat_core.c in the sweep, so a ref's race-2 cell says what detectPath says for a checkout
// of that ref: the NAT file is resolved per commit beside nf_conntrack_core.c, each distinct
// NAT blob is scanned once, and the findings are joined with detectPath's own join
// (applyContext), before history, in the same order detectPath uses.

import * as path from 'node:path';
import { applyContext } from '../detect';
import { decodeSource } from '../detect/input';
import { scanNatCore } from '../detect/nat';
import { scanNfqueue } from '../detect/nfqueue';
import type { DetectionResult, Evidence } from '../types';

export const NAT_FILE = 'nf_nat_core.c';
export const NFQUEUE_FILE = 'nfnetlink_queue.c';

/**
 * Where detectPath looks for a neighbour file: beside the conntrack file (also for a tree nested
 * in a directory or moved, since resolveTarget takes the kernel root or the file's directory).
 */
export function besidePath(corePath: string, name: string): string {
  const dir = path.posix.dirname(corePath);
  return dir === '.' ? name : `${dir}/${name}`;
}

export const natPathFor = (corePath: string): string => besidePath(corePath, NAT_FILE);

/** Evidence that points into nf_nat_core.c, not into the conntrack file (scanNatCore's `nat.` sites). */
export function isNatEvidence(e: Pick<Evidence, 'site' | 'layer'>): boolean {
  return e.layer === 'source' && e.site.startsWith('nat.');
}

export interface NatScan {
  file: string;
  findings: Evidence[];
  /** The blob is not text detectPath would read (it skips the file then). */
  undecodable?: boolean;
}

/** One distinct NAT blob's findings; an undecodable blob has none (detectPath skips it too). */
export function scanNatBlob(content: Uint8Array, file: string): NatScan {
  const dec = decodeSource(content);
  return { file, findings: dec.ok ? scanNatCore(dec.text, file) : [] };
}

/** Evidence that points into nfnetlink_queue.c (scanNfqueue's `race4.nfqueue` sites). */
export function isNfqueueEvidence(e: Pick<Evidence, 'site' | 'layer'>): boolean {
  return e.layer === 'source' && e.site.startsWith('race4.nfqueue');
}

/** One distinct nfnetlink_queue.c blob's findings (none: the file never calls the update hook). */
export function scanNfqueueBlob(content: Uint8Array, file: string): NatScan {
  const dec = decodeSource(content);
  return dec.ok ? { file, findings: scanNfqueue(dec.text, file) } : { file, findings: [], undecodable: true };
}

/**
 * The source result with the NAT and nfqueue findings joined, in detectPath's order (NAT, then
 * nfqueue). Without NAT findings its join changes nothing, so that scan is skipped; an
 * nfnetlink_queue.c that is present always counts (without the hook call race 4 is not
 * applicable), as it does for detectPath. An undecodable nfqueue blob is skipped, as detectPath
 * skips it. Otherwise a copy: the base result is shared by every ref with that blob.
 */
export function withRelated(base: DetectionResult, nat: NatScan | undefined, nfq: NatScan | undefined): DetectionResult {
  if (!base.kernelFile) return base;
  const related = [...(nat?.findings.length ? [nat] : []), ...(nfq && !nfq.undecodable ? [nfq] : [])];
  if (!related.length) return base;
  return applyContext(structuredClone(base), { related });
}
