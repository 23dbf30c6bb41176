// Timed table-overflow run (seed 002): new flows arrive at rate R against nf_conntrack_max.
// DNS flows are request/response UDP (never ASSURED, early-drop candidates); TCP flows become
// ASSURED after the handshake, live for a while, then sit in TIME_WAIT. The same lookup /
// confirm / reply steps decide early drops and "table full" drops; gc runs once a second.
// The table may start pre-filled (the scenario's prefill knob, scaled to the timed table).
// A flow is admitted when it got an entry, answered when its reply still found that entry, and
// evicted when early drop (or the gc worker) removed it before its reply came.

import { Rng, RngChooser, wilson } from './rng';
import {
  ASSURED,
  COUNTER_NAMES,
  CONFIRMED,
  C_EARLY_DROP,
  ModelState,
  SEEN_REPLY,
  TCP_ESTABLISHED,
  TCP_TIME_WAIT,
  TIMEOUTS,
  type CounterName,
  type WhatIf,
} from './state';
import { O_TABLE_FULL, Packet, PH_CONFIRM, PH_REPLY, SNAT_NONE } from './packet';
import { runStep, scaledTimeout, type StepCtx } from './steps';
import { ADDR, addressBook, earlyDropEraFor, getScenario, type ScenarioKnobs } from './scenarios';
import { invert, TCP, tProto, tuple, UDP } from './tuple';
import { variantInfo, type ModelVariantId } from './variants';

export interface OverflowOptions {
  seed?: number;
  overrides?: Partial<ScenarioKnobs>;
  /** Table size of the timed run (the preset's race form uses a tiny table). */
  max?: number;
  buckets?: number;
  /** Pre-filled entries of the timed run (default none). */
  prefill?: { assured: number; nonAssured: number };
  /** Called once per simulated second (at each gc) with the simulated time and the run's duration. */
  onProgress?: (t: number, durationS: number) => void;
}

export interface OverflowResult {
  flows: number;
  /** Flows that got an entry (not dropped as "table full"). */
  admitted: number;
  /** Admitted flows whose reply still found their entry. */
  answered: number;
  /** Admitted flows whose entry was evicted (early drop or gc worker) before the reply. */
  evicted: number;
  dropped: number;
  dropRate: number;
  dropCi: [number, number];
  droppedUdp: number;
  droppedTcp: number;
  /** The early_drop counter: entries early_drop() killed (any entry, pre-filled ones included). */
  earlyDrops: number;
  /** Entries the gc worker killed while the table was >= 95 % full (gc era; no counter). */
  gcKilled: number;
  /** Fraction of simulated time the table was at nf_conntrack_max. */
  fullFraction: number;
  peak: number;
  max: number;
  buckets: number;
  earlyDropEra: string;
  whatIf: WhatIf;
  counters: Record<CounterName, number>;
  ms: number;
}

type Ev = { t: number; kind: 0 | 1; p: Packet; id: number }; // 0 reply, 1 close

class Heap {
  a: Ev[] = [];
  push(e: Ev): void {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const j = (i - 1) >> 1;
      if (a[j].t <= a[i].t) break;
      [a[i], a[j]] = [a[j], a[i]];
      i = j;
    }
  }
  pop(): Ev | undefined {
    const a = this.a;
    if (!a.length) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1,
          r = l + 1;
        let m = i;
        if (l < a.length && a[l].t < a[m].t) m = l;
        if (r < a.length && a[r].t < a[m].t) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
  peek(): Ev | undefined {
    return this.a[0];
  }
}

export function runOverflow(variant: ModelVariantId, opts: OverflowOptions = {}): OverflowResult {
  const t0 = performance.now();
  const kn = { ...getScenario('table-overflow').knobs, ...opts.overrides };
  const max = opts.max ?? 4096;
  const buckets = opts.buckets ?? Math.max(1, max >> 2);
  const era = earlyDropEraFor(kn.earlyDropEra, variant);
  const st = new ModelState({
    behaviour: variantInfo(variant).behaviour,
    nat: { natAddr: ADDR.node, portMin: 1024, portRange: 64512, mode: 'default', secret: 1, era: 'rover', rangeSpecified: false },
    cpus: Math.max(1, kn.cpus),
    buckets,
    max,
    whatIf: kn.whatIf,
    earlyDropEra: era,
    dnatMode: 'random',
  });
  const rng = new Rng(opts.seed ?? 1);
  const ctx: StepCtx = { ch: new RngChooser(rng), trace: null, addrs: addressBook() };
  // Pre-fill: established TCP (assured, 5 days) and replied UDP (non-assured, 120 s) from other hosts.
  const pf = opts.prefill ?? { assured: 0, nonAssured: 0 };
  const fill = Math.min(max, Math.max(0, Math.floor(pf.assured)) + Math.max(0, Math.floor(pf.nonAssured)));
  for (let i = 0; i < fill; i++) {
    const assured = i < pf.assured;
    const id = st.alloc();
    const e = st.entries[id];
    e.orig = tuple(assured ? TCP : UDP, 240 + ((i >>> 16) % 15), 1024 + ((i & 0xffff) % 64000), ADDR.peer, assured ? 443 : 53);
    e.reply = invert(e.orig);
    e.status = CONFIRMED | SEEN_REPLY | (assured ? ASSURED : 0);
    e.tcp = assured ? TCP_ESTABLISHED : 0;
    st.setExpires(e, assured ? TIMEOUTS.tcpEstablished : rng.next() * TIMEOUTS.udpReplied);
    st.hash(id, 3);
  }
  const heap = new Heap();
  const rtt = 0.02;
  let now = 0,
    nextGc = 1,
    full = 0,
    peak = st.count,
    flows = 0,
    dropped = 0,
    dUdp = 0,
    dTcp = 0,
    admitted = 0,
    answered = 0,
    evicted = 0;
  let nextArrival = rng.exp(1 / kn.flowRate);
  const advance = (t: number) => {
    if (st.count >= max) full += t - now;
    now = t;
    st.now = t;
  };
  while (nextArrival < kn.durationS) {
    const ev = heap.peek();
    const tNext = Math.min(nextArrival, ev ? ev.t : Infinity, nextGc);
    advance(tNext);
    if (tNext === nextGc) {
      st.gc();
      nextGc += 1;
      opts.onProgress?.(now, kn.durationS);
      continue;
    }
    if (ev && tNext === ev.t) {
      heap.pop();
      const p = ev.p;
      const e = st.entries[ev.id];
      const mine = e && e.live && e.orig === p.orig;
      if (ev.kind === 0) {
        if (mine) {
          answered++;
          runStep(st, p, ctx);
          if (tProto(p.orig) === TCP) heap.push({ t: now + rng.exp(kn.tcpLifetimeS), kind: 1, p, id: ev.id });
        } else evicted++;
      } else if (mine) {
        e.tcp = TCP_TIME_WAIT;
        e.lastSeen = now;
        st.setExpires(e, now + scaledTimeout(st, TIMEOUTS.tcpTimeWait));
      }
      continue;
    }
    // A new flow: unique 5-tuple, DNS or TCP.
    const udp = rng.next() < kn.udpFraction;
    const i = flows++;
    const orig = tuple(udp ? UDP : TCP, 40 + ((i >>> 16) % 200), 1024 + ((i & 0xffff) % 64000), ADDR.peer, udp ? 53 : 443);
    const p = new Packet(i, i % st.cfg.cpus, orig, 0, 0, [], SNAT_NONE, true);
    runStep(st, p, ctx); // lookup (+ early drop)
    if (p.phase === PH_CONFIRM) runStep(st, p, ctx);
    if (p.outcome === O_TABLE_FULL) {
      dropped++;
      if (udp) dUdp++;
      else dTcp++;
    } else if (p.phase === PH_REPLY) {
      admitted++;
      heap.push({ t: now + rtt, kind: 0, p, id: p.ct });
    }
    if (st.count > peak) peak = st.count;
    nextArrival += rng.exp(1 / kn.flowRate);
  }
  // Replies still in flight at the end are neither answered nor evicted yet: settle them now.
  for (let ev = heap.pop(); ev; ev = heap.pop()) {
    if (ev.kind !== 0) continue;
    const e = st.entries[ev.id];
    if (e && e.live && e.orig === ev.p.orig) answered++;
    else evicted++;
  }
  const counters = {} as Record<CounterName, number>;
  COUNTER_NAMES.forEach((n, c) => {
    counters[n] = st.total(c);
  });
  return {
    flows,
    admitted,
    answered,
    evicted,
    dropped,
    dropRate: flows ? dropped / flows : 0,
    dropCi: wilson(dropped, flows),
    droppedUdp: dUdp,
    droppedTcp: dTcp,
    earlyDrops: st.total(C_EARLY_DROP),
    gcKilled: st.gcKilled,
    fullFraction: now > 0 ? full / now : 0,
    peak,
    max,
    buckets,
    earlyDropEra: era,
    whatIf: kn.whatIf,
    counters,
    ms: performance.now() - t0,
  };
}
