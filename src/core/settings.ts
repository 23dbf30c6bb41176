// The user's backport settings as a plain, validated object: the editor reads them from its
// configuration, the CLI from flags, and the planner takes only this shape.

import { CATALOGUE } from './catalogue';
import type { VariantId } from './types';

export type MessageStyle = 'sru' | 'stable';

export interface BackportSettings {
  /** Remote the upstream commits are fetched from (by SHA). */
  upstreamRemote: string;
  /** Catalogue entry -> commit id to use instead (mirrors, internal forks). */
  commitOverrides: Partial<Record<VariantId, string>>;
  /** Launchpad bug number for the `BugLink:` line; empty when unset. */
  bugNumber: string;
  /** `Name <mail>`; empty means "ask git config". */
  signOff: string;
  sruSeries: string;
  messageStyle: MessageStyle;
}

export const DEFAULT_SETTINGS: BackportSettings = {
  upstreamRemote: 'upstream',
  commitOverrides: {},
  bugNumber: '',
  signOff: '',
  sruSeries: 'Bionic',
  messageStyle: 'sru',
};

const VARIANT_IDS = new Set<string>(CATALOGUE.map((c) => c.id));
const SHA = /^[0-9a-f]{7,40}$/i;
// git's own ref-name rules are wider; this keeps option-like and shell-ish names out.
const REMOTE = /^[A-Za-z0-9_][A-Za-z0-9_./-]*$/;
// One line: a newline in the name would write extra (forged) trailers into every commit.
const SIGN_OFF = /^[^<>\x00-\x1f\x7f]+ <[^<>\s]+@[^<>\s]+>$/;

const str = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');

/** Normalises raw settings; anything invalid falls back to the default and is named in `problems`. */
export function normalizeSettings(raw: Record<string, unknown>): { settings: BackportSettings; problems: string[] } {
  const problems: string[] = [];
  const s: BackportSettings = { ...DEFAULT_SETTINGS, commitOverrides: {} };

  const remote = str(raw.upstreamRemote);
  if (remote && REMOTE.test(remote)) s.upstreamRemote = remote;
  else if (remote) problems.push(`upstreamRemote "${remote}" is not a remote name; using "${s.upstreamRemote}"`);

  const overrides = raw.commitOverrides;
  if (overrides && typeof overrides === 'object' && !Array.isArray(overrides)) {
    for (const [k, v] of Object.entries(overrides as Record<string, unknown>)) {
      if (!VARIANT_IDS.has(k)) problems.push(`commitOverrides: "${k}" is not a catalogue entry (one of ${[...VARIANT_IDS].join(', ')})`);
      else if (typeof v !== 'string' || !SHA.test(v.trim()))
        problems.push(`commitOverrides.${k}: "${String(v)}" is not a commit id (7-40 hex digits)`);
      else s.commitOverrides[k as VariantId] = v.trim().toLowerCase();
    }
  } else if (overrides !== undefined && overrides !== null)
    problems.push('commitOverrides must be an object of catalogue entry -> commit id');

  // Accept the forms people paste: "1836816", "#1836816", "LP: #1836816", a bug URL.
  const bug = str(raw.bugNumber);
  const digits = /(?:^|[#/:\s])(\d{5,9})\/?$/.exec(bug)?.[1] ?? (/^\d+$/.test(bug) ? bug : '');
  if (digits) s.bugNumber = digits;
  else if (bug) problems.push(`bugNumber "${bug}" holds no Launchpad bug number`);

  const signOff = str(raw.signOff);
  if (SIGN_OFF.test(signOff)) s.signOff = signOff;
  else if (signOff) problems.push(`signOff "${signOff}" is not one line "Name <mail@host>"; git config is used instead`);

  const series = str(raw.sruSeries);
  if (/^[A-Za-z][A-Za-z0-9 .-]{0,30}$/.test(series)) s.sruSeries = series[0].toUpperCase() + series.slice(1);
  else if (series) problems.push(`sruSeries "${series}" is not a series name; using "${s.sruSeries}"`);

  const style = str(raw.messageStyle);
  if (style === 'sru' || style === 'stable') s.messageStyle = style;
  else if (style) problems.push(`messageStyle "${style}" is neither "sru" nor "stable"`);

  return { settings: s, problems };
}

/** `Name <mail>` from git config values, or '' when either is missing. */
export function signOffFromGit(name: string | undefined, email: string | undefined): string {
  const n = (name ?? '').trim();
  const e = (email ?? '').trim();
  return n && e ? `${n} <${e}>` : '';
}
