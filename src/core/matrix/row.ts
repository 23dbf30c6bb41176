// From one DetectionResult (shared by every ref with the same blob and history) to a matrix
// row whose cells point at their evidence: the file at the ref and line, or the commit.

import type { DetectionResult, Evidence, FeatureFinding, RaceVerdict } from '../types';
import type { RefInfo } from '../git/refs';
import { isNatEvidence, isNfqueueEvidence } from './nat';
import type { EvidencePointer, FeatureCell, HistoryMark, MatrixRow, RaceCell, RowStatus } from './types';

/** A cell keeps a few pointers: supporting evidence first, then what shows the fix absent. */
const MAX_POINTERS = 4;

export interface Located {
  blob: string | null;
  path: string | null;
  status: RowStatus;
  note?: string;
}

/** Paths of the files a row's evidence lives in (results are shared by refs, paths are not). */
interface Paths {
  core: string;
  nat?: string;
  nfq?: string;
}

function pointers(evidence: Evidence[], ref: RefInfo, p: Paths): EvidencePointer[] {
  const sorted = [...evidence].sort((a, b) => Number(b.supports) - Number(a.supports));
  return sorted.slice(0, MAX_POINTERS).map((e) => {
    if (e.layer === 'history' && e.commit)
      return { ref: e.commit.slice(0, 12), commit: e.commit, path: p.core, layer: 'history', site: e.site, supports: e.supports };
    const path = isNatEvidence(e) && p.nat ? p.nat : isNfqueueEvidence(e) && p.nfq ? p.nfq : p.core;
    return {
      ref: ref.short,
      commit: ref.commit ?? '',
      path,
      line: e.startLine,
      endLine: e.endLine,
      layer: e.layer,
      site: e.site,
      supports: e.supports,
    };
  });
}

function raceCell(v: RaceVerdict, ref: RefInfo, path: Paths): RaceCell {
  const c: RaceCell = { verdict: v.verdict, variant: v.variant, explain: v.explain, evidence: pointers(v.evidence, ref, path) };
  if (v.decidedBy) c.decidedBy = v.decidedBy;
  if (v.disagreement) c.disagreement = v.disagreement;
  return c;
}

function featureCell(f: FeatureFinding, ref: RefInfo, path: Paths): FeatureCell {
  return { present: f.present, explain: f.explain, evidence: pointers(f.evidence, ref, path) };
}

const unknownRace = (why: string): RaceCell => ({ verdict: 'unknown', variant: null, explain: why, evidence: [] });
const unknownFeature = (why: string): FeatureCell => ({ present: 'unknown', explain: why, evidence: [] });

/** `natPath`, `nfqPath`: where nf_nat_core.c and nfnetlink_queue.c were read at this ref, for the evidence their scans found. */
export function buildRow(
  ref: RefInfo,
  loc: Located,
  result: DetectionResult | null,
  history: HistoryMark[],
  natPath?: string,
  nfqPath?: string,
): MatrixRow {
  const base = {
    ref: ref.name,
    short: ref.short,
    kind: ref.kind,
    date: ref.date,
    commit: ref.commit,
    blob: loc.blob,
    path: loc.path,
    history,
  };
  const status: RowStatus = result && !result.kernelFile ? 'not-kernel' : loc.status;
  const note = [loc.note, result && !result.kernelFile ? result.reason : undefined].filter(Boolean).join('; ') || undefined;
  if (!result || !result.kernelFile || !loc.path) {
    const why = note ?? 'no file at this ref';
    return {
      ...base,
      status,
      note,
      race1: unknownRace(why),
      race2: unknownRace(why),
      race3: unknownRace(why),
      race4: unknownRace(why),
      zone: unknownFeature(why),
      rework: unknownFeature(why),
      reverse: unknownFeature(why),
    };
  }
  const p: Paths = { core: loc.path, nat: natPath, nfq: nfqPath };
  return {
    ...base,
    status,
    ...(note ? { note } : {}),
    race1: raceCell(result.races.race1, ref, p),
    race2: raceCell(result.races.race2, ref, p),
    race3: raceCell(result.races.race3, ref, p),
    race4: raceCell(result.races.race4, ref, p),
    zone: featureCell(result.zoneFollowup, ref, p),
    rework: featureCell(result.rework2020, ref, p),
    reverse: featureCell(result.reverse2024, ref, p),
  };
}
