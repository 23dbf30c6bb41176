// A racing packet: what it carries and where it is in its path through netfilter. Packets are
// part of the explored state (phase, entry, rover value read) so the exhaustive engine clones
// and fingerprints them together with the table.

export const PH_LOOKUP = 0,
  PH_DNAT = 1,
  PH_SNAT = 2,
  PH_SNAT_PICK = 3,
  PH_CONFIRM = 4,
  PH_REPLY = 5,
  PH_DONE = 6;
export const PHASE_NAMES = ['lookup', 'dnat', 'snat', 'snat-pick', 'confirm', 'reply', 'done'] as const;
export type StepName = (typeof PHASE_NAMES)[number];

export const O_PENDING = 0,
  O_INSERTED = 1,
  O_FOUND = 2,
  O_MERGED = 3,
  O_CLASH_INSERTED = 4,
  O_DROPPED = 5,
  O_TABLE_FULL = 6;
export const OUTCOME_NAMES = ['pending', 'inserted', 'found', 'merged', 'clash-inserted', 'dropped', 'table-full'] as const;
export type OutcomeName = (typeof OUTCOME_NAMES)[number];

export const SNAT_NONE = 0,
  SNAT_NULL_BINDING = 1,
  SNAT_MASQUERADE = 2;

/** Why a clash could not be resolved, read off the two entries at the moment of the drop. */
export type DropCause = 'race1' | 'race2' | 'race3' | 'zone' | 'reverse' | 'port-collision' | 'tcp-clash' | 'table-full' | 'clash';

export class Packet {
  phase = PH_LOOKUP;
  /** Entry the packet is attached to (its own unconfirmed one, or the winner after a merge). */
  ct = -1;
  /** Rover value read by the default-mode port allocator, written back one step later. */
  off = 0;
  outcome = O_PENDING;
  cause: DropCause | '' = '';
  constructor(
    public idx: number,
    public cpu: number,
    /** Tuple as the packet leaves the socket. */
    public orig: number,
    public zone: number,
    public zoneReply: number,
    /** DNAT endpoint addresses (empty: no DNAT rule). */
    public endpoints: readonly number[],
    public snat: number,
    public wantReply: boolean,
  ) {}

  clone(): Packet {
    const p = new Packet(this.idx, this.cpu, this.orig, this.zone, this.zoneReply, this.endpoints, this.snat, this.wantReply);
    p.phase = this.phase;
    p.ct = this.ct;
    p.off = this.off;
    p.outcome = this.outcome;
    p.cause = this.cause;
    return p;
  }

  fingerprint(): string {
    return `${this.phase},${this.ct},${this.off},${this.outcome},${this.cause}`;
  }

  reset(): void {
    this.phase = PH_LOOKUP;
    this.ct = -1;
    this.off = 0;
    this.outcome = O_PENDING;
    this.cause = '';
  }

  get done(): boolean {
    return this.phase === PH_DONE;
  }
}

/** Phase after lookup/dnat/snat/confirm for this packet's rule set. */
export function nextPhase(p: Packet, from: number): number {
  if (from === PH_LOOKUP && p.endpoints.length > 0) return PH_DNAT;
  if ((from === PH_LOOKUP || from === PH_DNAT) && p.snat !== SNAT_NONE) return PH_SNAT;
  if (from === PH_LOOKUP || from === PH_DNAT || from === PH_SNAT || from === PH_SNAT_PICK) return PH_CONFIRM;
  if (from === PH_CONFIRM && p.wantReply) return PH_REPLY;
  return PH_DONE;
}
