// Turning whatever the user pointed at into text, or into a clear "not a kernel file" reason.

import * as fs from 'node:fs';
import * as path from 'node:path';

export const CORE_REL_PATH = 'net/netfilter/nf_conntrack_core.c';
export const NAT_REL_PATH = 'net/netfilter/nf_nat_core.c';
export const NFQUEUE_REL_PATH = 'net/netfilter/nfnetlink_queue.c';
/** Real copies are 60-120 KB; anything this large is not one. */
export const MAX_BYTES = 4 * 1024 * 1024;

export type DecodedInput = { ok: true; text: string; notes: string[] } | { ok: false; reason: string };

export function decodeSource(buf: Uint8Array): DecodedInput {
  if (buf.length === 0) return { ok: false, reason: 'the file is empty' };
  if (buf.length > MAX_BYTES)
    return {
      ok: false,
      reason: `the file is ${(buf.length / 1048576).toFixed(1)} MiB; nf_conntrack_core.c is about 0.1 MiB, so this is not it (not parsed)`,
    };
  const probe = buf.subarray(0, Math.min(buf.length, 65536));
  if (probe.includes(0)) return { ok: false, reason: 'the file is binary (it contains NUL bytes), not C source' };
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(buf), notes: [] };
  } catch {
    // Old trees carry Latin-1 names in comments; decoding byte for byte keeps every offset.
    return { ok: true, text: Buffer.from(buf).toString('latin1'), notes: ['not valid UTF-8: read as Latin-1'] };
  }
}

export type ResolvedTarget =
  { ok: true; file: string; treeRoot?: string; natFile?: string; nfqueueFile?: string } | { ok: false; reason: string };

/** A kernel tree, a file inside it, or a loose copy of the file. */
export function resolveTarget(target: string): ResolvedTarget {
  let st: fs.Stats;
  try {
    st = fs.statSync(target);
  } catch {
    return { ok: false, reason: `${target}: no such file or directory` };
  }
  if (st.isDirectory()) {
    const file = path.join(target, CORE_REL_PATH);
    if (!fs.existsSync(file))
      return { ok: false, reason: `${target} is a directory without ${CORE_REL_PATH}: not a kernel tree (or the file moved)` };
    const nat = path.join(target, NAT_REL_PATH);
    const nfq = path.join(target, NFQUEUE_REL_PATH);
    return {
      ok: true,
      file,
      treeRoot: target,
      natFile: fs.existsSync(nat) ? nat : undefined,
      nfqueueFile: fs.existsSync(nfq) ? nfq : undefined,
    };
  }
  const abs = path.resolve(target);
  const root = abs.endsWith(path.sep + CORE_REL_PATH.split('/').join(path.sep)) ? abs.slice(0, -CORE_REL_PATH.length - 1) : undefined;
  const nat = root ? path.join(root, NAT_REL_PATH) : path.join(path.dirname(abs), 'nf_nat_core.c');
  const nfq = root ? path.join(root, NFQUEUE_REL_PATH) : path.join(path.dirname(abs), 'nfnetlink_queue.c');
  return {
    ok: true,
    file: target,
    treeRoot: root,
    natFile: fs.existsSync(nat) ? nat : undefined,
    nfqueueFile: fs.existsSync(nfq) ? nfq : undefined,
  };
}
