// The detection contract shared by the CLI, the extension, the backport planner, the model
// and the branch matrix. Keep the JSON keys stable: `detect --json` prints this shape.

/** race4: the 2024 nfqueue race (kubernetes-sigs/kind#3713), fixed by 8af79d3edb5f. */
export type RaceId = 'race1' | 'race2' | 'race3' | 'race4';
/** Every race, in display order: surfaces iterate this list rather than naming races. */
export const RACES: readonly RaceId[] = ['race1', 'race2', 'race3', 'race4'];

/**
 * fixed | missing | partial (some sites of a fix only) | conditional (differs per #if branch) |
 * unknown | not-applicable (the code the race lives in is not in this tree, e.g. no nfqueue
 * conntrack hook).
 */
export type Verdict = 'fixed' | 'missing' | 'partial' | 'conditional' | 'unknown' | 'not-applicable';

/** How a verdict reads to a user: `not-applicable` says what it means. */
export const verdictLabel = (v: Verdict): string => (v === 'not-applicable' ? 'not in this tree' : v);

/** Verdicts that need no backport: the fix is in, or the race's code is not in this tree. */
export const isSettled = (v: Verdict): boolean => v === 'fixed' || v === 'not-applicable';

/** Which detection layer produced a piece of evidence. */
export type Layer = 'source' | 'history' | 'patch';

/** Identifiers of the catalogue entries (see catalogue.ts). */
export type VariantId =
  'ed07d9a021df' | 'azure-937963' | '4e35c1cb9460' | '07998281c268' | 'azure-952939' | 'rework-2020' | 'reverse-2024' | 'nfqueue-2024';

export interface Evidence {
  layer: Layer;
  /** Path as given by the caller (file or path inside the repository). */
  file: string;
  /** Function the site lives in (source layer), when there is one. */
  function?: string;
  /** 1-based, inclusive. */
  startLine?: number;
  endLine?: number;
  /** What matched: a signature id and the normalised fragment, a commit line, a hunk. */
  site: string;
  /** Catalogue entry this evidence speaks for. */
  variant?: VariantId;
  /** true: supports the fix being present; false: shows it absent. */
  supports: boolean;
  /** Preprocessor condition the site sits under, e.g. `CONFIG_NF_NAT` or `!CONFIG_X`. */
  condition?: string;
  /** History layer: the commit that carries it. */
  commit?: string;
  note?: string;
}

export interface RaceVerdict {
  verdict: Verdict;
  /** The catalogue entry that decided the verdict (null for missing/unknown). */
  variant: VariantId | null;
  evidence: Evidence[];
  /** One line for humans. */
  explain: string;
  /** Set for `conditional`. */
  condition?: string;
  /** Layer that decided the verdict. */
  decidedBy?: Layer;
  /** Set when the history layer disagrees with the source layer. */
  disagreement?: string;
}

export interface FeatureFinding {
  present: boolean | 'unknown';
  evidence: Evidence[];
  explain: string;
}

export interface FunctionInfo {
  name: string;
  /** 1-based inclusive lines of the whole definition (return type to closing brace). */
  startLine: number;
  endLine: number;
  /** Line holding the function name. */
  nameLine: number;
  /** Byte offsets into the (pre-passed) source: body braces included. */
  bodyStart: number;
  bodyEnd: number;
  /** Preprocessor condition (conjunction) the definition sits under, or undefined. */
  condition?: string;
}

export interface HistoryCommitEvidence {
  sha: string;
  subject: string;
  /** Upstream sha named by a provenance line, if any. */
  upstream?: string;
  provenance?: 'cherry-picked' | 'backported' | 'stable-upstream' | 'commit-upstream';
  /** Catalogue entry this commit was matched to, and how. */
  variant?: VariantId;
  matchedBy: 'provenance' | 'subject' | 'patch-id' | 'revert';
  /** A revert of this catalogue entry. */
  reverts?: boolean;
}

export interface HistoryReport {
  available: boolean;
  reason?: string;
  repoRoot?: string;
  /** Path of the file relative to the repository root. */
  relPath?: string;
  commitsTouchingFile: number;
  commits: HistoryCommitEvidence[];
  /** Net state per catalogue entry as history tells it (applied minus reverted). */
  net: Partial<Record<VariantId, 'applied' | 'reverted'>>;
}

export interface DetectionResult {
  file: string;
  /** false when the input is not an nf_conntrack_core.c at all. */
  kernelFile: boolean;
  /** Why kernelFile is false, or why verdicts are unknown. */
  reason?: string;
  races: Record<RaceId, RaceVerdict>;
  zoneFollowup: FeatureFinding;
  rework2020: FeatureFinding;
  reverse2024: FeatureFinding;
  /** Every catalogue entry whose source signature fired. */
  variantsPresent: VariantId[];
  /** Functions of interest found in the file (name -> location). */
  functions: Record<string, Pick<FunctionInfo, 'name' | 'startLine' | 'endLine' | 'nameLine' | 'condition'>>;
  history?: HistoryReport;
  /** Secondary files scanned (nf_nat_core.c for the azure 952939 hypothesis). */
  related?: { file: string; findings: Evidence[] }[];
  lines: number;
  /** Regions whose braces or comments do not balance; function boundaries were recovered after them. */
  damage?: { startLine: number; endLine: number; reason: string }[];
  /** Lines no configuration compiles (`#if 0`, ...): fix sites there are shown, never counted. */
  neverCompiled?: { startLine: number; endLine: number; condition: string }[];
  timingMs?: { parse: number; detect: number };
}
