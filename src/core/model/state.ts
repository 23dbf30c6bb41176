// Model state: conntrack entries, the confirmed hash table, per-CPU statistics and the NAT
// port allocator. Entries and hash nodes are plain numbers/arrays so that the exhaustive engine
// can clone and fingerprint a state cheaply and the Monte Carlo engine can reuse one state
// across millions of trials without allocating.

import { hashTuple } from './tuple';
import type { VariantBehaviour } from './variants';

// Status bits, named as in the kernel's enum ip_conntrack_status.
export const CONFIRMED = 1 << 0;
export const SRC_NAT_DONE = 1 << 1;
export const DST_NAT_DONE = 1 << 2;
export const SEEN_REPLY = 1 << 3;
export const ASSURED = 1 << 4;
export const DYING = 1 << 5;
export const NAT_CLASH = 1 << 6;
export const NAT_DONE_MASK = SRC_NAT_DONE | DST_NAT_DONE;

export const STATUS_NAMES: [number, string][] = [
  [CONFIRMED, 'CONFIRMED'],
  [SRC_NAT_DONE, 'SRC_NAT_DONE'],
  [DST_NAT_DONE, 'DST_NAT_DONE'],
  [SEEN_REPLY, 'SEEN_REPLY'],
  [ASSURED, 'ASSURED'],
  [DYING, 'DYING'],
  [NAT_CLASH, 'NAT_CLASH'],
];

export function statusNames(s: number): string[] {
  return STATUS_NAMES.filter(([bit]) => s & bit).map(([, n]) => n);
}

/** Per-CPU counters in the order `conntrack -S` prints them. */
export const COUNTER_NAMES = [
  'found',
  'invalid',
  'ignore',
  'insert',
  'insert_failed',
  'drop',
  'early_drop',
  'error',
  'search_restart',
  'clash_resolve',
  'chaintoolong',
] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];
export const NC = COUNTER_NAMES.length;
export const C_FOUND = 0,
  C_INSERT = 3,
  C_INSERT_FAILED = 4,
  C_DROP = 5,
  C_EARLY_DROP = 6,
  C_CLASH_RESOLVE = 9,
  C_CHAINTOOLONG = 10;

/** TCP conntrack states the model needs. */
export const TCP_NONE = 0,
  TCP_SYN_SENT = 1,
  TCP_ESTABLISHED = 2,
  TCP_FIN_WAIT = 3,
  TCP_TIME_WAIT = 4,
  TCP_CLOSE = 5;
export const TCP_STATE_NAMES = ['NONE', 'SYN_SENT', 'ESTABLISHED', 'FIN_WAIT', 'TIME_WAIT', 'CLOSE'];

/** Default timeouts in seconds (nf_conntrack_udp_timeout*, nf_conntrack_tcp_timeout_*). */
export const TIMEOUTS = {
  udpUnreplied: 30,
  udpReplied: 120,
  udpStream: 180,
  natClash: 1,
  tcpSynSent: 120,
  tcpEstablished: 432000,
  tcpFinWait: 120,
  tcpTimeWait: 120,
  tcpClose: 10,
};

export class Entry {
  orig = 0;
  reply = 0;
  zoneO = 0;
  zoneR = 0;
  status = 0;
  /** Absolute expiry time (s). */
  expires = Infinity;
  lastSeen = 0;
  tcp = TCP_NONE;
  /** Which directions are in the hash table: bit 0 ORIGINAL, bit 1 REPLY. */
  hashed = 0;
  /** Racing packet that allocated it, -1 for background entries. */
  owner = -1;
  live = false;
  /** Buckets its ORIGINAL / REPLY nodes sit in while hashed (computed once, at hash time). */
  bo = 0;
  br = 0;
  copyFrom(o: Entry): void {
    this.orig = o.orig;
    this.reply = o.reply;
    this.zoneO = o.zoneO;
    this.zoneR = o.zoneR;
    this.status = o.status;
    this.expires = o.expires;
    this.lastSeen = o.lastSeen;
    this.tcp = o.tcp;
    this.hashed = o.hashed;
    this.owner = o.owner;
    this.live = o.live;
    this.bo = o.bo;
    this.br = o.br;
  }
}

export type PortMode = 'default' | 'random' | 'random-fully';

/**
 * Port allocator era of nf_nat_l4proto_unique_tuple:
 * - rover: a shared per-protocol "rover" is the start offset of the default mode (read, probe,
 *   written back), --random starts at a hash of (saddr, daddr, dport), --random-fully at a fresh
 *   random offset; the whole range is probed and the last port is taken even when used.
 * - random: the rover is gone (6ed5943f8735 + a504b703bb1d, v5.17, stable 4.9/4.14/4.19/5.4/5.10/5.15
 *   in 2022): every mode starts at a fresh random offset, probes at most 128 ports, then rounds of
 *   64, 32, 16, 8 from new random offsets, and keeps the last candidate when all were used.
 */
export type NatEra = 'rover' | 'random';

/**
 * early_drop era: legacy (<= v4.6) evicts the first non-assured entry met within 8 hash nodes;
 * chain (v4.7+) evicts every non-assured entry of the first of 8 buckets that has one; gc
 * (v4.17+) is chain plus the gc worker: after a "table full" drop its next pass kills
 * non-assured entries and TCP entries in closing states while the table is >= 95 % full.
 */
export type EarlyDropEra = 'legacy' | 'chain' | 'gc';

/** How a DNAT rule spreads new flows over endpoints: statistic --mode random (kube-proxy) or a round-robin counter (statistic --mode nth --every N, nft numgen inc mod N). */
export type DnatMode = 'random' | 'nth';

export interface NatConfig {
  /** Address index MASQUERADE rewrites the source to. */
  natAddr: number;
  portMin: number;
  portRange: number;
  mode: PortMode;
  /** Secret of the hashed --random offset (the kernel's net_secret). */
  secret: number;
  era: NatEra;
  /** The rule names a port range (--to-ports): the original port is kept only if it lies in it (in_range). */
  rangeSpecified: boolean;
}

export interface WhatIf {
  /** Early drop also evicts TCP entries in closing states (FIN_WAIT/TIME_WAIT/CLOSE) even if ASSURED. */
  earlyDropClosing: boolean;
  /** While the table is full, entries idle longer than this (s) are evictable by early drop; 0 = off. */
  softTimeout: number;
  /** Above this occupancy (0..1) new timeouts shrink linearly towards 0 at 100 %; 0 = off. */
  adaptiveThreshold: number;
}

export const NO_WHATIF: WhatIf = { earlyDropClosing: false, softTimeout: 0, adaptiveThreshold: 0 };

export interface StateConfig {
  behaviour: VariantBehaviour;
  nat: NatConfig;
  cpus: number;
  buckets: number;
  max: number;
  whatIf: WhatIf;
  earlyDropEra: EarlyDropEra;
  dnatMode: DnatMode;
}

/** Number of buckets early_drop looks at (NF_CT_EVICTION_RANGE). */
export const EVICTION_RANGE = 8;

export interface StateSnapshot {
  entries: number;
  fields: Float64Array;
  nodes: number;
  freeIds: number[];
  count: number;
  rover: number;
  nth: number;
  now: number;
  minExpires: number;
  stats: Float64Array;
  gcEarlyDrop: boolean;
  gcKilled: number;
}

const ENTRY_FIELDS = 13;
function entryFields(e: Entry, out: Float64Array, o: number): void {
  out[o] = e.orig;
  out[o + 1] = e.reply;
  out[o + 2] = e.zoneO;
  out[o + 3] = e.zoneR;
  out[o + 4] = e.status;
  out[o + 5] = e.expires;
  out[o + 6] = e.lastSeen;
  out[o + 7] = e.tcp;
  out[o + 8] = e.hashed;
  out[o + 9] = e.owner;
  out[o + 10] = e.live ? 1 : 0;
  out[o + 11] = e.bo;
  out[o + 12] = e.br;
}

export class ModelState {
  entries: Entry[] = [];
  freeIds: number[] = [];
  /** Allocated entries, confirmed or not: what nf_conntrack_max is compared against. */
  count = 0;
  /** Each bucket holds hash nodes id*2+dir (dir 0 ORIGINAL, 1 REPLY). */
  buckets: number[][];
  rover = 0;
  /** Shared counter of a round-robin DNAT rule (xt_statistic nth / nft numgen inc): one atomic step per new flow. */
  nth = 0;
  now = 0;
  stats: Float64Array;
  hashSeed = 0x9747b28c;

  constructor(public cfg: StateConfig) {
    this.buckets = Array.from({ length: cfg.buckets }, () => []);
    this.stats = new Float64Array(cfg.cpus * NC);
  }

  inc(cpu: number, counter: number): void {
    this.stats[cpu * NC + counter]++;
  }

  total(counter: number): number {
    let s = 0;
    for (let c = 0; c < this.cfg.cpus; c++) s += this.stats[c * NC + counter];
    return s;
  }

  // Two-entry memo of bucketOf: a step asks for the bucket of the same one or two tuples
  // several times in a row (expire, find, hash), so most calls skip the hash.
  private m0t = -1;
  private m0z = 0;
  private m0b = 0;
  private m1t = -1;
  private m1z = 0;
  private m1b = 0;

  bucketOf(t: number, zone: number): number {
    if (t === this.m0t && zone === this.m0z) return this.m0b;
    if (t === this.m1t && zone === this.m1z) return this.m1b;
    // h mod n without a floating-point modulo: h < 2^32, so the quotient's floor is exact.
    const h = hashTuple(t, zone, this.hashSeed);
    const n = this.cfg.buckets;
    const b = h - Math.floor(h / n) * n;
    this.m1t = this.m0t;
    this.m1z = this.m0z;
    this.m1b = this.m0b;
    this.m0t = t;
    this.m0z = zone;
    this.m0b = b;
    return b;
  }

  alloc(): number {
    let id: number;
    if (this.freeIds.length) id = this.freeIds.pop()!;
    else {
      id = this.entries.length;
      this.entries.push(new Entry());
    }
    const e = this.entries[id];
    e.orig = 0;
    e.reply = 0;
    e.zoneO = 0;
    e.zoneR = 0;
    e.status = 0;
    e.expires = Infinity;
    e.lastSeen = this.now;
    e.tcp = TCP_NONE;
    e.hashed = 0;
    e.owner = -1;
    e.live = true;
    this.count++;
    return id;
  }

  /** Unhash (if hashed) and free an entry: nf_ct_put of the last reference. */
  release(id: number): void {
    const e = this.entries[id];
    if (!e.live) return;
    this.unhash(id);
    e.live = false;
    this.count--;
    this.freeIds.push(id);
  }

  hash(id: number, dirs: number): void {
    const e = this.entries[id];
    if (dirs & 1) {
      e.bo = this.bucketOf(e.orig, e.zoneO);
      this.buckets[e.bo].push(id * 2);
    }
    if (dirs & 2) {
      e.br = this.bucketOf(e.reply, e.zoneR);
      this.buckets[e.br].push(id * 2 + 1);
    }
    e.hashed |= dirs;
  }

  unhash(id: number): void {
    const e = this.entries[id];
    if (e.hashed & 1) removeNode(this.buckets[e.bo], id * 2);
    if (e.hashed & 2) removeNode(this.buckets[e.br], id * 2 + 1);
    e.hashed = 0;
  }

  /** Hash node (id*2+dir) holding tuple t in zone, or -1. Skips expired entries lazily like the kernel's bucket walk. */
  find(t: number, zone: number): number {
    const b = this.buckets[this.bucketOf(t, zone)];
    for (let i = 0; i < b.length; i++) {
      const node = b[i];
      const e = this.entries[node >> 1];
      if ((node & 1 ? e.reply : e.orig) === t && (node & 1 ? e.zoneR : e.zoneO) === zone) return node;
    }
    return -1;
  }

  /**
   * A lower bound of every entry's expiry (the least value ever set): while `now` is below it no
   * entry can have expired, so a bucket walk need not read each entry (with 32k held ports those
   * reads were most of a TCP trial). Never raised, so it stays a bound whatever is freed.
   */
  minExpires = Infinity;

  setExpires(e: Entry, at: number): void {
    e.expires = at;
    if (at < this.minExpires) this.minExpires = at;
  }

  /** Remove entries of bucket(t) whose timeout passed: nf_ct_gc_expired during lookups. */
  expireBucket(t: number, zone: number): void {
    if (this.now < this.minExpires) return;
    const b = this.buckets[this.bucketOf(t, zone)];
    for (let i = b.length - 1; i >= 0; i--) {
      if (i >= b.length) continue;
      const id = b[i] >> 1;
      if (this.entries[id].expires <= this.now) this.release(id);
    }
  }

  /** Set by a "table full" drop; the gc worker of the gc era then evicts (conntrack_gc_work.early_drop). */
  gcEarlyDrop = false;

  /**
   * Periodic gc_worker scan: every expired entry goes; in the gc era, after a "table full" drop,
   * also non-assured entries and closing TCP ones while the table is >= 95 % full (nf_ct_kill:
   * no counter). Returns how many were removed.
   */
  gc(): number {
    let n = 0;
    const max95 = this.cfg.earlyDropEra === 'gc' && this.gcEarlyDrop && this.cfg.max > 0 ? Math.floor(this.cfg.max / 100) * 95 : 0;
    for (let id = 0; id < this.entries.length; id++) {
      const e = this.entries[id];
      if (!e.live || !(e.status & CONFIRMED)) continue;
      if (e.expires <= this.now) {
        this.release(id);
        n++;
        continue;
      }
      if (
        max95 > 0 &&
        this.count >= max95 &&
        !(e.status & DYING) &&
        (!(e.status & ASSURED) || e.tcp === TCP_FIN_WAIT || e.tcp === TCP_TIME_WAIT || e.tcp === TCP_CLOSE)
      ) {
        this.release(id);
        n++;
        this.gcKilled++;
      }
    }
    this.gcEarlyDrop = false;
    return n;
  }

  /** Entries the gc worker killed to make room (gc era). */
  gcKilled = 0;

  /**
   * What a built baseline looks like, so a later restore() can bring the same state object back
   * to it exactly (no rebuild, no clone: a scenario with 32k held ports takes 100 ms to build).
   */
  snapshot(): StateSnapshot {
    const n = this.entries.length;
    const fields = new Float64Array(n * ENTRY_FIELDS);
    for (let id = 0; id < n; id++) entryFields(this.entries[id], fields, id * ENTRY_FIELDS);
    let nodes = 0;
    for (const b of this.buckets) nodes += b.length;
    return {
      entries: n,
      fields,
      nodes,
      freeIds: this.freeIds.slice(),
      count: this.count,
      rover: this.rover,
      nth: this.nth,
      now: this.now,
      minExpires: this.minExpires,
      stats: this.stats.slice(),
      gcEarlyDrop: this.gcEarlyDrop,
      gcKilled: this.gcKilled,
    };
  }

  /**
   * Back to `snap` if only state that a snapshot restores was touched: every entry allocated since
   * is released and unhashed, and every baseline entry is as it was (all fields compared). False
   * (state left as is) when a baseline entry was changed, e.g. evicted: then build afresh.
   */
  restore(snap: StateSnapshot): boolean {
    const n = snap.entries;
    if (this.entries.length < n || this.count !== snap.count) return false;
    for (let id = n; id < this.entries.length; id++) if (this.entries[id].live || this.entries[id].hashed) return false;
    const cur = new Float64Array(ENTRY_FIELDS);
    for (let id = 0; id < n; id++) {
      entryFields(this.entries[id], cur, 0);
      for (let f = 0; f < ENTRY_FIELDS; f++) if (cur[f] !== snap.fields[id * ENTRY_FIELDS + f]) return false;
    }
    let nodes = 0;
    for (const b of this.buckets) nodes += b.length;
    if (nodes !== snap.nodes) return false;
    this.entries.length = n;
    this.freeIds = snap.freeIds.slice();
    this.rover = snap.rover;
    this.nth = snap.nth;
    this.now = snap.now;
    this.minExpires = snap.minExpires;
    this.stats.set(snap.stats);
    this.gcEarlyDrop = snap.gcEarlyDrop;
    this.gcKilled = snap.gcKilled;
    this.m0t = this.m1t = -1;
    return true;
  }

  clone(): ModelState {
    const s = Object.create(ModelState.prototype) as ModelState;
    s.cfg = this.cfg;
    s.entries = this.entries.map((e) => {
      const n = new Entry();
      n.copyFrom(e);
      return n;
    });
    s.freeIds = this.freeIds.slice();
    s.count = this.count;
    s.buckets = this.buckets.map((b) => (b.length ? b.slice() : []));
    s.rover = this.rover;
    s.nth = this.nth;
    s.now = this.now;
    s.minExpires = this.minExpires;
    s.stats = this.stats.slice();
    s.hashSeed = this.hashSeed;
    s.gcEarlyDrop = this.gcEarlyDrop;
    s.gcKilled = this.gcKilled;
    s.m0t = s.m1t = -1;
    s.m0z = s.m1z = s.m0b = s.m1b = 0;
    return s;
  }

  /** Fingerprint of everything that can influence later steps (not the counters). */
  fingerprint(): string {
    let k = `${this.rover}|${this.nth}|${this.count}|`;
    // Bucket order only matters to early_drop (which entry it meets first), i.e. with a limit.
    if (this.cfg.max > 0)
      for (let i = 0; i < this.buckets.length; i++) if (this.buckets[i].length) k += `${i}:${this.buckets[i].join(',')};`;
    for (let id = 0; id < this.entries.length; id++) {
      const e = this.entries[id];
      if (e.live) k += `#${id}:${e.orig},${e.reply},${e.zoneO},${e.zoneR},${e.status},${e.tcp},${e.hashed}`;
    }
    return k;
  }

  totals(): Record<CounterName, number> {
    const o = {} as Record<CounterName, number>;
    COUNTER_NAMES.forEach((n, i) => {
      o[n] = this.total(i);
    });
    return o;
  }

  perCpu(): Record<CounterName, number>[] {
    const rows: Record<CounterName, number>[] = [];
    for (let c = 0; c < this.cfg.cpus; c++) {
      const o = {} as Record<CounterName, number>;
      COUNTER_NAMES.forEach((n, i) => {
        o[n] = this.stats[c * NC + i];
      });
      rows.push(o);
    }
    return rows;
  }
}

function removeNode(b: number[], node: number): void {
  const i = b.indexOf(node);
  if (i >= 0) {
    b[i] = b[b.length - 1];
    b.pop();
  }
}
