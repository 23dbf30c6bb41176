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
  /**
   * The confirmed hash table as typed arrays. Hash nodes are id*2+dir (dir 0 ORIGINAL, 1 REPLY);
   * each bucket is a doubly linked chain (head/tail per bucket, next/prev per node) in the order
   * an array with push-at-end and swap-last-into-the-hole removal would have, which is the order
   * early_drop meets entries in. Each node's tuple sits beside it (nodeT), so a walk compares
   * doubles in dense arrays and reads an entry only when the tuple matches: the TCP trials walk
   * chains of a 32k-entry table, and one entry object read per node was most of their cost, and
   * 16k small arrays per built table most of the build's garbage. An entry's tuples never change
   * while it is hashed.
   */
  head: Int32Array;
  tail: Int32Array;
  /** Nodes per chain. */
  clen: Int32Array;
  next: Int32Array;
  prev: Int32Array;
  nodeT: Float64Array;
  rover = 0;
  /** Shared counter of a round-robin DNAT rule (xt_statistic nth / nft numgen inc): one atomic step per new flow. */
  nth = 0;
  now = 0;
  stats: Float64Array;
  hashSeed = 0x9747b28c;

  constructor(public cfg: StateConfig) {
    this.head = new Int32Array(cfg.buckets).fill(-1);
    this.tail = new Int32Array(cfg.buckets).fill(-1);
    this.clen = new Int32Array(cfg.buckets);
    this.next = new Int32Array(16);
    this.prev = new Int32Array(16);
    this.nodeT = new Float64Array(16);
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
    e.bo = 0;
    e.br = 0;
    this.count++;
    return id;
  }

  /**
   * Entries below this id are the built baseline (set by snapshot()); `baseDirty` says a step
   * wrote to one of them since (found it, answered it, hashed, unhashed or freed it), so restore()
   * need not compare 32k entries field by field to know the baseline is untouched.
   */
  baseLimit = 0;
  baseDirty = false;

  /** A step writes to entry `id`. */
  touch(id: number): void {
    if (id < this.baseLimit) this.baseDirty = true;
  }

  /** Unhash (if hashed) and free an entry: nf_ct_put of the last reference. */
  release(id: number): void {
    const e = this.entries[id];
    if (!e.live) return;
    this.touch(id);
    this.unhash(id);
    e.live = false;
    this.count--;
    this.freeIds.push(id);
  }

  hash(id: number, dirs: number): void {
    const e = this.entries[id];
    this.touch(id);
    if (dirs & 1) {
      e.bo = this.bucketOf(e.orig, e.zoneO);
      this.link(e.bo, id * 2, e.orig);
    }
    if (dirs & 2) {
      e.br = this.bucketOf(e.reply, e.zoneR);
      this.link(e.br, id * 2 + 1, e.reply);
    }
    e.hashed |= dirs;
  }

  unhash(id: number): void {
    const e = this.entries[id];
    this.touch(id);
    if (e.hashed & 1) this.unlink(e.bo, id * 2);
    if (e.hashed & 2) this.unlink(e.br, id * 2 + 1);
    e.hashed = 0;
  }

  /** Append node n (tuple t) at the end of chain b. */
  private link(b: number, n: number, t: number): void {
    if (n >= this.next.length) this.growNodes(n + 1);
    const last = this.tail[b];
    this.prev[n] = last;
    this.next[n] = -1;
    if (last < 0) this.head[b] = n;
    else this.next[last] = n;
    this.tail[b] = n;
    this.nodeT[n] = t;
    this.clen[b]++;
  }

  /** Remove node n from chain b: the chain's last node takes its place (as b[i] = b[last]; b.pop()). */
  private unlink(b: number, n: number): void {
    const last = this.tail[b];
    // Take the last node off the end.
    const before = this.prev[last];
    this.tail[b] = before;
    if (before < 0) this.head[b] = -1;
    else this.next[before] = -1;
    this.clen[b]--;
    if (last === n) return;
    // Put it where n was.
    const p = this.prev[n],
      q = this.next[n];
    this.prev[last] = p;
    this.next[last] = q;
    if (p < 0) this.head[b] = last;
    else this.next[p] = last;
    if (q < 0) this.tail[b] = last;
    else this.prev[q] = last;
  }

  private growNodes(min: number): void {
    let cap = this.next.length * 2;
    while (cap < min) cap *= 2;
    const grow = <T extends Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.next = grow(this.next, (n) => new Int32Array(n));
    this.prev = grow(this.prev, (n) => new Int32Array(n));
    this.nodeT = grow(this.nodeT, (n) => new Float64Array(n));
  }

  /** The nodes of chain b in order (a copy: for the rare walks that release entries or print). */
  chain(b: number): number[] {
    const out: number[] = [];
    for (let n = this.head[b]; n >= 0; n = this.next[n]) out.push(n);
    return out;
  }

  /** Hash nodes in the table. */
  nodeCount(): number {
    let nodes = 0;
    for (let b = 0; b < this.clen.length; b++) nodes += this.clen[b];
    return nodes;
  }

  /** Hash node (id*2+dir) holding tuple t in zone, or -1. */
  find(t: number, zone: number): number {
    const nodeT = this.nodeT;
    for (let n = this.head[this.bucketOf(t, zone)]; n >= 0; n = this.next[n]) {
      if (nodeT[n] !== t) continue;
      const e = this.entries[n >> 1];
      if ((n & 1 ? e.zoneR : e.zoneO) === zone) return n;
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
    // Walked from the end as an array would be, re-read after each release (which may take
    // both of an entry's nodes out of this chain).
    const bi = this.bucketOf(t, zone);
    let b = this.chain(bi);
    for (let i = b.length - 1; i >= 0; i--) {
      if (i >= b.length) continue;
      const id = b[i] >> 1;
      if (this.entries[id].expires <= this.now) {
        this.release(id);
        b = this.chain(bi);
      }
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
    this.baseLimit = n;
    this.baseDirty = false;
    const fields = new Float64Array(n * ENTRY_FIELDS);
    for (let id = 0; id < n; id++) entryFields(this.entries[id], fields, id * ENTRY_FIELDS);
    const nodes = this.nodeCount();
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
   * is released and unhashed, and every baseline entry is as it was. False (state left as is) when
   * a baseline entry was changed, e.g. evicted: then build afresh. Whether one was changed comes
   * from `baseDirty`; `verify` compares every field of every baseline entry instead (tests check
   * the two agree).
   */
  restore(snap: StateSnapshot, verify = false): boolean {
    const n = snap.entries;
    if (this.entries.length < n || this.count !== snap.count) return false;
    if (!verify && (this.baseDirty || this.baseLimit !== n)) return false;
    for (let id = n; id < this.entries.length; id++) if (this.entries[id].live || this.entries[id].hashed) return false;
    const f = snap.fields;
    if (verify)
      for (let id = 0, o = 0; id < n; id++, o += ENTRY_FIELDS) {
        const e = this.entries[id];
        if (
          e.orig !== f[o] ||
          e.reply !== f[o + 1] ||
          e.zoneO !== f[o + 2] ||
          e.zoneR !== f[o + 3] ||
          e.status !== f[o + 4] ||
          e.expires !== f[o + 5] ||
          e.lastSeen !== f[o + 6] ||
          e.tcp !== f[o + 7] ||
          e.hashed !== f[o + 8] ||
          e.owner !== f[o + 9] ||
          (e.live ? 1 : 0) !== f[o + 10] ||
          e.bo !== f[o + 11] ||
          e.br !== f[o + 12]
        )
          return false;
      }
    if (this.nodeCount() !== snap.nodes) return false;
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
    this.baseDirty = false;
    return true;
  }

  /**
   * This state emptied for a new build of the same shape (same bucket and CPU count), keeping its
   * entry objects and node arrays, or a new state when the shape differs: a built table of 32k
   * entries otherwise leaves 32k objects for the collector per build. Ids come out of alloc() in
   * the order a fresh state gives (0, 1, 2, ...); finishBuild() drops the ones the build left.
   */
  resetFor(cfg: StateConfig): ModelState {
    if (cfg.buckets !== this.head.length || cfg.cpus !== this.cfg.cpus) return new ModelState(cfg);
    this.cfg = cfg;
    const n = this.entries.length;
    this.freeIds.length = 0;
    for (let id = n - 1; id >= 0; id--) {
      const e = this.entries[id];
      e.live = false;
      e.hashed = 0;
      this.freeIds.push(id);
    }
    this.count = 0;
    this.head.fill(-1);
    this.tail.fill(-1);
    this.clen.fill(0);
    this.rover = 0;
    this.nth = 0;
    this.now = 0;
    this.stats.fill(0);
    this.m0t = this.m1t = -1;
    this.minExpires = Infinity;
    this.gcEarlyDrop = false;
    this.gcKilled = 0;
    this.baseLimit = 0;
    this.baseDirty = false;
    return this;
  }

  /** After a build into a reset state: entries the build did not use are dropped, as if it had started empty. */
  finishBuild(): void {
    if (!this.freeIds.length) return;
    this.entries.length = this.entries.length - this.freeIds.length;
    this.freeIds.length = 0;
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
    s.head = this.head.slice();
    s.tail = this.tail.slice();
    s.clen = this.clen.slice();
    s.next = this.next.slice();
    s.prev = this.prev.slice();
    s.nodeT = this.nodeT.slice();
    s.rover = this.rover;
    s.nth = this.nth;
    s.now = this.now;
    s.minExpires = this.minExpires;
    s.stats = this.stats.slice();
    s.hashSeed = this.hashSeed;
    s.gcEarlyDrop = this.gcEarlyDrop;
    s.gcKilled = this.gcKilled;
    s.baseLimit = this.baseLimit;
    s.baseDirty = this.baseDirty;
    s.m0t = s.m1t = -1;
    s.m0z = s.m1z = s.m0b = s.m1b = 0;
    return s;
  }

  /** Fingerprint of everything that can influence later steps (not the counters). */
  fingerprint(): string {
    let k = `${this.rover}|${this.nth}|${this.count}|`;
    // Bucket order only matters to early_drop (which entry it meets first), i.e. with a limit.
    if (this.cfg.max > 0) for (let i = 0; i < this.clen.length; i++) if (this.clen[i]) k += `${i}:${this.chain(i).join(',')};`;
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
