// The per-packet steps. Each call is one atomic step of one CPU; CPUs interleave between calls.
// Every accept, merge and drop comes out of these functions acting on the table: they mirror
// what the kernel functions named in the trace do, for the switches of the variant.

import type { Chooser } from './rng';
import {
  ASSURED,
  C_CLASH_RESOLVE,
  C_DROP,
  C_EARLY_DROP,
  C_FOUND,
  C_INSERT_FAILED,
  CONFIRMED,
  DST_NAT_DONE,
  DYING,
  EVICTION_RANGE,
  ModelState,
  NAT_CLASH,
  NAT_DONE_MASK,
  SEEN_REPLY,
  SRC_NAT_DONE,
  TCP_CLOSE,
  TCP_ESTABLISHED,
  TCP_FIN_WAIT,
  TCP_SYN_SENT,
  TCP_TIME_WAIT,
  TIMEOUTS,
  type Entry,
} from './state';
import {
  DropCause,
  nextPhase,
  O_CLASH_INSERTED,
  O_DROPPED,
  O_FOUND,
  O_INSERTED,
  O_MERGED,
  O_TABLE_FULL,
  Packet,
  PH_CONFIRM,
  PH_DNAT,
  PH_DONE,
  PH_LOOKUP,
  PH_REPLY,
  PH_SNAT,
  PH_SNAT_PICK,
  SNAT_MASQUERADE,
  SNAT_NULL_BINDING,
  type StepName,
} from './packet';
import { invert, TCP, tDport, tProto, tSaddr, tSport, tuple, withDst, withSrc, tDaddr, hashTuple } from './tuple';

export interface TraceEvent {
  packet: number;
  cpu: number;
  step: StepName;
  /** Kernel function the step corresponds to. */
  fn: string;
  note: string;
  /** This step decided the packet's fate (drop, merge, clash insert). */
  decisive?: boolean;
}

export interface StepCtx {
  ch: Chooser;
  /** Filled only when a trace is wanted (exhaustive drop traces, explorer). */
  trace: TraceEvent[] | null;
  /** For notes: address names. */
  addrs: readonly string[];
}

function note(ctx: StepCtx, p: Packet, step: StepName, fn: string, text: () => string, decisive = false): void {
  if (ctx.trace) ctx.trace.push({ packet: p.idx, cpu: p.cpu, step, fn, note: text(), decisive });
}

function fmt(ctx: StepCtx, t: number): string {
  const a = (i: number) => ctx.addrs[i] ?? `addr${i}`;
  return `${a(tSaddr(t))}:${tSport(t)}->${a(tDaddr(t))}:${tDport(t)}`;
}

/** Adaptive-timeout what-if: shrink new timeouts linearly once occupancy passes the threshold. */
export function scaledTimeout(st: ModelState, base: number): number {
  const th = st.cfg.whatIf.adaptiveThreshold;
  if (th <= 0 || st.cfg.max <= 0) return base;
  const occ = st.count / st.cfg.max;
  if (occ <= th) return base;
  return base * Math.max(0.01, (1 - occ) / (1 - th));
}

export function runStep(st: ModelState, p: Packet, ctx: StepCtx): void {
  switch (p.phase) {
    case PH_LOOKUP:
      return stepLookup(st, p, ctx);
    case PH_DNAT:
      return stepDnat(st, p, ctx);
    case PH_SNAT:
      return stepSnat(st, p, ctx);
    case PH_SNAT_PICK:
      return stepSnatPick(st, p, ctx);
    case PH_CONFIRM:
      return stepConfirm(st, p, ctx);
    case PH_REPLY:
      return stepReply(st, p, ctx);
    default:
      return;
  }
}

/** nf_conntrack_in -> resolve_normal_ct: find the tuple or allocate an unconfirmed entry. */
export function stepLookup(st: ModelState, p: Packet, ctx: StepCtx): void {
  st.expireBucket(p.orig, p.zone);
  const node = st.find(p.orig, p.zone);
  if (node >= 0) {
    const e = st.entries[node >> 1];
    st.touch(node >> 1);
    e.lastSeen = st.now;
    p.ct = node >> 1;
    p.outcome = O_FOUND;
    p.phase = PH_DONE;
    if (ctx.trace)
      note(ctx, p, 'lookup', 'nf_conntrack_in', () => `found confirmed entry #${node >> 1}: packet attaches, no new entry`, true);
    return;
  }
  if (st.cfg.max > 0 && st.count >= st.cfg.max) {
    if (!earlyDrop(st, p, ctx)) {
      st.gcEarlyDrop = true;
      st.inc(p.cpu, C_DROP);
      p.outcome = O_TABLE_FULL;
      p.cause = 'table-full';
      p.phase = PH_DONE;
      if (ctx.trace)
        note(
          ctx,
          p,
          'lookup',
          '__nf_conntrack_alloc',
          () => `table full (${st.count}/${st.cfg.max}), no non-assured entry in ${EVICTION_RANGE} buckets: "table full, dropping packet"`,
          true,
        );
      return;
    }
  }
  const id = st.alloc();
  const e = st.entries[id];
  e.orig = p.orig;
  e.reply = invert(p.orig);
  e.zoneO = p.zone;
  e.zoneR = p.zoneReply;
  e.owner = p.idx;
  e.tcp = tProto(p.orig) === TCP ? TCP_SYN_SENT : 0;
  p.ct = id;
  p.phase = nextPhase(p, PH_LOOKUP);
  if (ctx.trace) note(ctx, p, 'lookup', 'init_conntrack', () => `no entry for ${fmt(ctx, p.orig)}: unconfirmed entry #${id} allocated`);
}

function evictable(st: ModelState, e: Entry): boolean {
  if (e.status & DYING) return false;
  if (!(e.status & ASSURED)) return true;
  const w = st.cfg.whatIf;
  if (w.earlyDropClosing && (e.tcp === TCP_FIN_WAIT || e.tcp === TCP_TIME_WAIT || e.tcp === TCP_CLOSE)) return true;
  if (w.softTimeout > 0 && st.now - e.lastSeen > w.softTimeout) return true;
  return false;
}

/**
 * early_drop, per era. Both start at the bucket of the new packet's tuple and walk hash nodes
 * of either direction (a chain holds ORIGINAL and REPLY nodes alike).
 * - chain (v4.7+, early_drop_list): up to EVICTION_RANGE buckets; expired entries met are
 *   reaped; in the first bucket holding evictable entries every one of them is killed, and
 *   early_drop grows by how many.
 * - legacy (<= v4.6): take the first evictable entry met, give up after EVICTION_RANGE nodes
 *   were looked at; one entry killed.
 */
function earlyDrop(st: ModelState, p: Packet, ctx: StepCtx): boolean {
  const nb = st.cfg.buckets;
  const start = st.bucketOf(p.orig, p.zone);
  if (st.cfg.earlyDropEra === 'legacy') {
    let cnt = 0;
    for (let i = 0; i < nb; i++) {
      const b = st.chain((start + i) % nb);
      for (let j = 0; j < b.length; j++) {
        const id = b[j] >> 1;
        if (evictable(st, st.entries[id])) {
          st.release(id);
          st.inc(p.cpu, C_EARLY_DROP);
          if (ctx.trace)
            note(
              ctx,
              p,
              'lookup',
              'early_drop',
              () => `table full: evicted non-assured entry #${id} (first of ${cnt + 1} nodes looked at)`,
            );
          return true;
        }
        cnt++;
      }
      if (cnt >= EVICTION_RANGE) break;
    }
    return false;
  }
  const span = Math.min(EVICTION_RANGE, nb);
  for (let i = 0; i < span; i++) {
    const b = st.chain((start + i) % nb);
    const victims: number[] = [];
    for (let j = 0; j < b.length; j++) {
      const id = b[j] >> 1;
      const e = st.entries[id];
      if (victims.includes(id)) continue; // both of its nodes in this chain
      if (e.expires <= st.now) {
        victims.push(-1 - id);
        continue;
      } // nf_ct_gc_expired: reaped, not counted
      if (evictable(st, e)) victims.push(id);
    }
    let drops = 0;
    for (const v of victims) {
      if (v < 0) {
        st.release(-1 - v);
        continue;
      }
      st.release(v);
      drops++;
    }
    if (drops > 0) {
      for (let k = 0; k < drops; k++) st.inc(p.cpu, C_EARLY_DROP);
      if (ctx.trace) {
        const ids = victims.filter((v) => v >= 0);
        note(
          ctx,
          p,
          'lookup',
          'early_drop -> early_drop_list',
          () =>
            `table full: bucket ${(start + i) % nb} (${i + 1} of ${span} looked at): evicted ${drops} non-assured entr${drops === 1 ? 'y' : 'ies'} #${ids.join(', #')}`,
        );
      }
      return true;
    }
  }
  return false;
}

/**
 * DNAT to a Service VIP. statistic --mode random: every new flow picks one of N endpoints
 * (kube-proxy's cascade of 1/N, 1/(N-1), ... probabilities is uniform overall). nth: one shared
 * counter (xt_statistic's atomic cmpxchg, nft numgen inc) steps once per new flow, so
 * consecutive flows alternate. Only packets with a fresh unconfirmed entry reach the rules.
 */
export function stepDnat(st: ModelState, p: Packet, ctx: StepCtx): void {
  const e = st.entries[p.ct];
  const n = p.endpoints.length;
  let k: number;
  if (st.cfg.dnatMode === 'nth') {
    k = st.nth % n;
    st.nth = (st.nth + 1) % n;
  } else k = ctx.ch.pick(n);
  const ep = p.endpoints[k];
  e.reply = invert(withDst(e.orig, ep, tDport(e.orig)));
  e.status |= DST_NAT_DONE;
  p.phase = nextPhase(p, PH_DNAT);
  if (ctx.trace)
    note(
      ctx,
      p,
      'dnat',
      'nf_nat_setup_info (DNAT)',
      () =>
        `${st.cfg.dnatMode === 'nth' ? 'round-robin counter' : 'statistic random'}: endpoint ${k + 1}/${n} chosen: ${ctx.addrs[ep] ?? ep}`,
    );
}

/**
 * nf_conntrack_tuple_taken for the reply tuple `reply` of entry e: another confirmed entry
 * holding it makes it taken, except (4e35c1cb) one with the same ORIGINAL tuple (07998281c268:
 * in the same zone). Returns the id of the entry that takes it, or -1.
 */
export function tupleTaken(st: ModelState, reply: number, e: Entry, cpu: number): number {
  const beh = st.cfg.behaviour;
  const nodeT = st.nodeT;
  for (let node = st.head[st.bucketOf(reply, e.zoneR)]; node >= 0; node = st.next[node]) {
    if (nodeT[node] !== reply) continue; // the node's tuple, kept beside it: no entry read unless it matches
    const ct = st.entries[node >> 1];
    if (ct === e) continue;
    const z = node & 1 ? ct.zoneR : ct.zoneO;
    if (z !== e.zoneR) continue;
    if (beh.skipSameOrigin && ct.orig === e.orig && (!beh.skipSameOriginZoneCheck || ct.zoneO === e.zoneO)) continue;
    // The kernel counts a taken tuple as `found`: the seed-001 counters (found >> insert) show it.
    st.inc(cpu, C_FOUND);
    return node >> 1;
  }
  return -1;
}

function natTarget(st: ModelState, p: Packet, e: Entry): number {
  return p.snat === SNAT_MASQUERADE ? st.cfg.nat.natAddr : tSaddr(e.orig);
}

/**
 * get_unique_tuple (SRC manip). Only without --random/--random-fully (NF_NAT_RANGE_PROTO_RANDOM_ALL)
 * is the original source port tried first, and only if it lies in the rule's range (in_range);
 * with either random flag the port always comes from nf_nat_l4proto_unique_tuple.
 */
export function stepSnat(st: ModelState, p: Packet, ctx: StepCtx): void {
  const e = st.entries[p.ct];
  const beh = st.cfg.behaviour;
  const nat = st.cfg.nat;
  const addr = natTarget(st, p, e);
  const out = invert(e.reply); // the tuple as it leaves after DNAT
  // A null binding carries no port flags: only a MASQUERADE/SNAT rule can ask for --random*.
  const masq = p.snat === SNAT_MASQUERADE;
  const randomAll = masq && nat.mode !== 'default';
  let why = '';
  if (!randomAll) {
    if (beh.reuseMatchingReply) {
      // azure 952939 HYPOTHESIS: a confirmed entry with the same ORIGINAL tuple (and the same
      // post-DNAT destination) lends its reply tuple, so both entries end up identical.
      for (let node = st.head[st.bucketOf(e.orig, e.zoneO)]; node >= 0; node = st.next[node]) {
        if (node & 1) continue;
        const ct = st.entries[node >> 1];
        if (ct !== e && ct.orig === e.orig && ct.zoneO === e.zoneO && tSaddr(ct.reply) === tSaddr(e.reply)) {
          e.reply = ct.reply;
          finishSnat(p, e);
          if (ctx.trace)
            note(
              ctx,
              p,
              'snat',
              'get_unique_tuple (azure 952939 hypothesis)',
              () => `same ORIGINAL as confirmed #${node >> 1}: reuse its reply tuple ${fmt(ctx, ct.reply)}`,
            );
          return;
        }
      }
    }
    const port = tSport(e.orig);
    const inRange = !masq || !nat.rangeSpecified || (port >= nat.portMin && port < nat.portMin + nat.portRange);
    const keep = withSrc(out, addr, port);
    const taker = inRange ? tupleTaken(st, invert(keep), e, p.cpu) : -1;
    if (inRange && taker < 0) {
      e.reply = invert(keep);
      finishSnat(p, e);
      if (ctx.trace)
        note(ctx, p, 'snat', 'get_unique_tuple -> nf_nat_used_tuple', () => `${fmt(ctx, keep)} not taken: source port ${port} kept`);
      return;
    }
    // Notes are built only for a trace: a string per SNAT miss was most of a TCP trial's garbage.
    if (ctx.trace)
      why = inRange
        ? `reply tuple of port ${port} taken by confirmed #${taker}`
        : `port ${port} outside --to-ports ${nat.portMin}-${nat.portMin + nat.portRange - 1}`;
    if (nat.era === 'rover') {
      // The rover is read here and written back by the next step: two CPUs can read one value.
      p.off = st.rover;
      p.phase = PH_SNAT_PICK;
      if (ctx.trace) note(ctx, p, 'snat', 'nf_conntrack_tuple_taken', () => `${why}: read rover = ${st.rover}`, true);
      return;
    }
  } else if (ctx.trace) {
    why = `${nat.mode}: original port not tried (NF_NAT_RANGE_PROTO_RANDOM_ALL)`;
  }
  if (nat.era === 'random' || !masq) {
    if (ctx.trace) note(ctx, p, 'snat', 'get_unique_tuple', () => `${why}: random start offset`, !randomAll);
    pickPortRandom(st, p, e, ctx);
    return;
  }
  const off =
    nat.mode === 'random'
      ? hashTuple(tuple(0, addr, 0, tDaddr(out), tDport(out)), 0, nat.secret) % nat.portRange // secure_port(saddr, daddr, dport)
      : ctx.ch.pick(nat.portRange); // --random-fully: fresh random offset
  if (ctx.trace) note(ctx, p, 'snat', 'get_unique_tuple', () => `${why}: ${nat.mode} offset ${off}`);
  pickPort(st, p, e, off, ctx);
}

/** nf_nat_l4proto_unique_tuple, rover era, default mode: probe from the rover value read earlier, write the rover. */
export function stepSnatPick(st: ModelState, p: Packet, ctx: StepCtx): void {
  pickPort(st, p, st.entries[p.ct], p.off, ctx);
}

/** Rover era: probe the whole range from `off`; the last port is taken even when used. */
function pickPort(st: ModelState, p: Packet, e: Entry, off: number, ctx: StepCtx): void {
  const nat = st.cfg.nat;
  const addr = natTarget(st, p, e);
  const out = invert(e.reply);
  const range = nat.portRange;
  const label: StepName = p.phase === PH_SNAT_PICK ? 'snat-pick' : 'snat';
  const rover = p.snat !== SNAT_MASQUERADE || nat.mode === 'default';
  for (let i = 0; ; i++) {
    const o = (off + i) % range;
    const cand = withSrc(out, addr, nat.portMin + o);
    if (i + 1 < range && tupleTaken(st, invert(cand), e, p.cpu) >= 0) continue;
    if (rover) st.rover = o;
    e.reply = invert(cand);
    finishSnat(p, e);
    if (ctx.trace)
      note(
        ctx,
        p,
        label,
        'nf_nat_l4proto_unique_tuple',
        () => `port ${nat.portMin + o} chosen after ${i + 1} probe(s)${rover ? `, rover := ${o}` : ''}`,
      );
    return;
  }
}

/** Random era: at most 128 probes from a random offset, then halving rounds from new offsets; the last candidate stays if all were used. */
function pickPortRandom(st: ModelState, p: Packet, e: Entry, ctx: StepCtx): void {
  const nat = st.cfg.nat;
  const addr = natTarget(st, p, e);
  const out = invert(e.reply);
  const range = nat.portRange;
  let attempts = Math.min(range, 128);
  let probes = 0;
  let cand = out;
  for (;;) {
    const off = ctx.ch.pick(range);
    for (let i = 0; i < attempts; i++) {
      cand = withSrc(out, addr, nat.portMin + ((off + i) % range));
      probes++;
      if (tupleTaken(st, invert(cand), e, p.cpu) < 0) {
        e.reply = invert(cand);
        finishSnat(p, e);
        if (ctx.trace)
          note(
            ctx,
            p,
            'snat',
            'nf_nat_l4proto_unique_tuple',
            () => `port ${tSport(cand)} chosen after ${probes} probe(s) from random offsets`,
          );
        return;
      }
    }
    if (attempts >= range || attempts < 16) break;
    attempts >>= 1;
  }
  e.reply = invert(cand);
  finishSnat(p, e);
  if (ctx.trace)
    note(
      ctx,
      p,
      'snat',
      'nf_nat_l4proto_unique_tuple',
      () => `all ${probes} probes used: port ${tSport(cand)} kept anyway (confirm will clash)`,
    );
}

function finishSnat(p: Packet, e: Entry): void {
  // A null binding still marks NAT as done in both directions: what makes race 1 bite nodes
  // that load the nat table without rewriting anything.
  e.status |= SRC_NAT_DONE | (p.snat === SNAT_NULL_BINDING || p.endpoints.length === 0 ? DST_NAT_DONE : 0);
  p.phase = nextPhase(p, p.phase === PH_SNAT_PICK ? PH_SNAT_PICK : PH_SNAT);
}

function match(a: Entry, b: Entry): boolean {
  return a.orig === b.orig && a.reply === b.reply && a.zoneO === b.zoneO && a.zoneR === b.zoneR;
}

function matchReverse(a: Entry, b: Entry): boolean {
  return a.orig === b.reply && a.reply === b.orig && a.zoneO === b.zoneR && a.zoneR === b.zoneO;
}

function newTimeout(st: ModelState, e: Entry): number {
  return scaledTimeout(st, tProto(e.orig) === TCP ? TIMEOUTS.tcpSynSent : TIMEOUTS.udpUnreplied);
}

/** __nf_conntrack_confirm: insert both tuples unless one is already there (a clash). */
export function stepConfirm(st: ModelState, p: Packet, ctx: StepCtx): void {
  const id = p.ct;
  const e = st.entries[id];
  st.expireBucket(e.orig, e.zoneO);
  st.expireBucket(e.reply, e.zoneR);
  const h1 = st.find(e.orig, e.zoneO);
  const h2 = st.find(e.reply, e.zoneR);
  if (h1 < 0 && h2 < 0) {
    st.hash(id, 3);
    e.status |= CONFIRMED;
    st.setExpires(e, st.now + newTimeout(st, e));
    p.outcome = O_INSERTED;
    p.phase = nextPhase(p, PH_CONFIRM);
    if (ctx.trace)
      note(ctx, p, 'confirm', '__nf_conntrack_confirm', () => `#${id} inserted (${fmt(ctx, e.orig)} / reply ${fmt(ctx, e.reply)})`);
    return;
  }
  resolveClash(st, p, e, h1 >= 0 ? h1 : h2, h1 >= 0, h2 >= 0, ctx);
}

function resolveClash(st: ModelState, p: Packet, e: Entry, h: number, origClash: boolean, replyClash: boolean, ctx: StepCtx): void {
  const beh = st.cfg.behaviour;
  const pre2020 = beh.counterEra === 'pre2020';
  const loser = p.ct;
  const winner = h >> 1;
  const ct = st.entries[winner];
  const allowClash = tProto(e.orig) !== TCP; // l4proto->allow_clash: UDP yes, TCP no
  if (pre2020) st.inc(p.cpu, C_INSERT_FAILED); // old kernels count every clash here
  let merge = false;
  if (allowClash) {
    if (beh.merge === 'canMerge') merge = match(ct, e) || matchReverse(ct, e);
    else if (!(ct.status & DYING)) {
      const natNotDone = (ct.status & NAT_DONE_MASK) === 0;
      merge = beh.merge === 'old' ? natNotDone : natNotDone || match(ct, e);
    }
  }
  const fn = beh.clashHarder ? '__nf_ct_resolve_clash' : 'nf_ct_resolve_clash';
  if (merge) {
    st.release(loser);
    p.ct = winner;
    p.outcome = O_MERGED;
    p.phase = nextPhase(p, PH_CONFIRM);
    if (!pre2020) st.inc(p.cpu, C_CLASH_RESOLVE);
    if (ctx.trace)
      note(
        ctx,
        p,
        'confirm',
        fn,
        () =>
          `clash with #${winner}: merged (${(ct.status & NAT_DONE_MASK) === 0 ? 'NAT not done' : matchReverse(ct, e) && !match(ct, e) ? 'tuples match crosswise' : 'tuples match'}), packet accepted`,
        true,
      );
    return;
  }
  if (allowClash && beh.clashHarder && origClash && !replyClash) {
    // nf_ct_resolve_clash_harder: the reply direction is free, so insert the loser in the
    // REPLY direction only; replies reach the right socket, the entry lives 1 s.
    st.hash(loser, 2);
    e.status |= CONFIRMED | NAT_CLASH;
    st.setExpires(e, st.now + TIMEOUTS.natClash);
    st.inc(p.cpu, C_CLASH_RESOLVE);
    p.outcome = O_CLASH_INSERTED;
    p.phase = nextPhase(p, PH_CONFIRM);
    if (ctx.trace)
      note(
        ctx,
        p,
        'confirm',
        'nf_ct_resolve_clash_harder',
        () => `ORIGINAL clashes with #${winner}, REPLY free: inserted in REPLY direction only, NAT_CLASH, 1 s`,
        true,
      );
    return;
  }
  const cause = classify(ct, e);
  st.release(loser);
  st.inc(p.cpu, C_DROP);
  if (!pre2020) st.inc(p.cpu, C_INSERT_FAILED);
  p.outcome = O_DROPPED;
  p.cause = cause;
  p.phase = PH_DONE;
  if (ctx.trace)
    note(
      ctx,
      p,
      'confirm',
      fn,
      () =>
        `clash with #${winner} (${origClash ? 'ORIGINAL' : ''}${origClash && replyClash ? '+' : ''}${replyClash ? 'REPLY' : ''}) not resolvable: DROP [${cause}]`,
      true,
    );
}

function classify(ct: Entry, e: Entry): DropCause {
  if (tProto(e.orig) === TCP) return ct.reply === e.reply ? 'port-collision' : 'tcp-clash';
  if (match(ct, e)) return 'race1';
  if (e.orig === ct.reply || e.reply === ct.orig) return 'reverse';
  if (ct.zoneO !== e.zoneO || ct.zoneR !== e.zoneR) return 'zone';
  if (e.orig === ct.orig && tSaddr(ct.reply) !== tSaddr(e.reply)) return 'race3';
  if (e.orig === ct.orig) return 'race2';
  return 'clash';
}

/** The answer comes back: SEEN_REPLY; TCP becomes ESTABLISHED and ASSURED; request/response UDP stays non-assured. */
export function stepReply(st: ModelState, p: Packet, ctx: StepCtx): void {
  const e = st.entries[p.ct];
  p.phase = PH_DONE;
  if (!e || !e.live) return;
  st.touch(p.ct);
  e.status |= SEEN_REPLY;
  e.lastSeen = st.now;
  if (tProto(e.orig) === TCP) {
    e.tcp = TCP_ESTABLISHED;
    e.status |= ASSURED;
    st.setExpires(e, st.now + scaledTimeout(st, TIMEOUTS.tcpEstablished));
  } else {
    st.setExpires(e, st.now + scaledTimeout(st, TIMEOUTS.udpReplied));
  }
  if (ctx.trace) note(ctx, p, 'reply', 'nf_conntrack_in (reply)', () => `reply matches #${p.ct}: SEEN_REPLY`);
}
