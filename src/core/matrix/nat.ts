// nf_nat_core.c in the sweep, so a ref's race-2 cell says what detectPath says for a checkout
// of that ref: the NAT file is resolved per commit beside nf_conntrack_core.c, each distinct
// NAT blob is scanned once, and the findings are joined with detectPath's own join
// (applyContext), before history, in the same order detectPath uses.

import * as path from 'node:path';
import { applyContext } from '../detect';
import { decodeSource } from '../detect/input';
import { scanNatCore } from '../detect/nat';
import type { DetectionResult, Evidence } from '../types';

export const NAT_FILE = 'nf_nat_core.c';

/**
 * Where detectPath looks for the NAT file: beside the conntrack file (also for a tree nested in
 * a directory or moved, since resolveTarget takes the kernel root or the file's directory).
 */
export function natPathFor(corePath: string): string {
  const dir = path.posix.dirname(corePath);
  return dir === '.' ? NAT_FILE : `${dir}/${NAT_FILE}`;
}

/** Evidence that points into nf_nat_core.c, not into the conntrack file (scanNatCore's `nat.` sites). */
export function isNatEvidence(e: Pick<Evidence, 'site' | 'layer'>): boolean {
  return e.layer === 'source' && e.site.startsWith('nat.');
}

export interface NatScan {
  file: string;
  findings: Evidence[];
}

/** One distinct NAT blob's findings; an undecodable blob has none (detectPath skips it too). */
export function scanNatBlob(content: Uint8Array, file: string): NatScan {
  const dec = decodeSource(content);
  return { file, findings: dec.ok ? scanNatCore(dec.text, file) : [] };
}

/**
 * The source result with the NAT findings joined. Without findings detectPath's join changes no
 * verdict, explanation or evidence, so the shared result is returned as is (no copy per pair);
 * with findings, a copy, because the base result is shared by every ref with that blob.
 */
export function withNat(base: DetectionResult, nat: NatScan | undefined): DetectionResult {
  if (!nat || !nat.findings.length || !base.kernelFile) return base;
  return applyContext(structuredClone(base), { related: [nat] });
}
