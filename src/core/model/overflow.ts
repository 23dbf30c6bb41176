// Timed table-overflow run (seed 002): new flows arrive at rate R against nf_conntrack_max.
// DNS flows are request/response UDP (never ASSURED, early-drop candidates); TCP flows become
// ASSURED after the handshake, live for a while, then sit in TIME_WAIT. The same lookup /
// confirm / reply steps decide early drops and "table full" drops; gc runs once a second.

import { Rng, RngChooser, wilson } from './rng';
import { COUNTER_NAMES, C_DROP, C_EARLY_DROP, ModelState, TCP_TIME_WAIT, TIMEOUTS, type CounterName, type WhatIf } from './state';
import { O_TABLE_FULL, Packet, PH_CONFIRM, PH_DONE, PH_REPLY, SNAT_NONE } from './packet';
import { runStep, scaledTimeout, type StepCtx } from './steps';
import { ADDR, addressBook, getScenario, type ScenarioKnobs } from './scenarios';
import { TCP, tProto, tuple, UDP } from './tuple';
import { variantInfo, type ModelVariantId } from './variants';

export interface OverflowOptions {
  seed?: number;
  overrides?: Partial<ScenarioKnobs>;
  /** Table size of the timed run (the preset's race form uses a tiny table). */
  max?: number;
  buckets?: number;
  /** Called once per simulated second (at each gc) with the simulated time and the run's duration. */
  onProgress?: (t: number, durationS: number) => void;
}

export interface OverflowResult {
  flows: number;
  dropped: number;
  dropRate: number;
  dropCi: [number, number];
  droppedUdp: number;
  droppedTcp: number;
  earlyDrops: number;
  /** Fraction of simulated time the table was at nf_conntrack_max. */
  fullFraction: number;
  peak: number;
  max: number;
  whatIf: WhatIf;
  counters: Record<CounterName, number>;
  ms: number;
}

type Ev = { t: number; kind: 0 | 1 | 2; p: Packet }; // 0 reply, 1 close

class Heap {
  a: Ev[] = [];
  push(e: Ev): void { const a = this.a; a.push(e); let i = a.length - 1; while (i > 0) { const j = (i - 1) >> 1; if (a[j].t <= a[i].t) break; [a[i], a[j]] = [a[j], a[i]]; i = j; } }
  pop(): Ev | undefined {
    const a = this.a; if (!a.length) return undefined; const top = a[0]; const last = a.pop()!;
    if (a.length) { a[0] = last; let i = 0; for (;;) { const l = 2 * i + 1, r = l + 1; let m = i; if (l < a.length && a[l].t < a[m].t) m = l; if (r < a.length && a[r].t < a[m].t) m = r; if (m === i) break; [a[i], a[m]] = [a[m], a[i]]; i = m; } }
    return top;
  }
  peek(): Ev | undefined { return this.a[0]; }
}

export function runOverflow(variant: ModelVariantId, opts: OverflowOptions = {}): OverflowResult {
  const t0 = performance.now();
  const kn = { ...getScenario('table-overflow').knobs, ...opts.overrides };
  const max = opts.max ?? 4096;
  const st = new ModelState({
    behaviour: variantInfo(variant).behaviour,
    nat: { natAddr: ADDR.node, portMin: 1024, portRange: 64512, mode: 'default', secret: 1 },
    cpus: Math.max(1, kn.cpus), buckets: opts.buckets ?? Math.max(1, max >> 2), max, whatIf: kn.whatIf,
  });
  const rng = new Rng(opts.seed ?? 1);
  const ctx: StepCtx = { ch: new RngChooser(rng), trace: null, addrs: addressBook() };
  const heap = new Heap();
  const rtt = 0.02;
  let now = 0, nextGc = 1, full = 0, peak = 0, flows = 0, dropped = 0, dUdp = 0, dTcp = 0;
  let nextArrival = rng.exp(1 / kn.flowRate);
  const advance = (t: number) => {
    if (st.count >= max) full += t - now;
    now = t; st.now = t;
  };
  while (nextArrival < kn.durationS) {
    const ev = heap.peek();
    const tNext = Math.min(nextArrival, ev ? ev.t : Infinity, nextGc);
    advance(tNext);
    if (tNext === nextGc) { st.gc(); nextGc += 1; opts.onProgress?.(now, kn.durationS); continue; }
    if (ev && tNext === ev.t) {
      heap.pop();
      const p = ev.p;
      if (ev.kind === 0) {
        runStep(st, p, ctx);
        if (tProto(p.orig) === TCP) heap.push({ t: now + rng.exp(kn.tcpLifetimeS), kind: 1, p });
      } else {
        const e = st.entries[p.ct];
        if (e && e.live && e.orig === p.orig) { e.tcp = TCP_TIME_WAIT; e.lastSeen = now; e.expires = now + scaledTimeout(st, TIMEOUTS.tcpTimeWait); }
      }
      continue;
    }
    // A new flow: unique 5-tuple, DNS or TCP.
    const udp = rng.next() < kn.udpFraction;
    const i = flows++;
    const orig = tuple(udp ? UDP : TCP, 40 + ((i >>> 16) % 200), 1024 + (i & 0xffff) % 64000, ADDR.peer, udp ? 53 : 443);
    const p = new Packet(i, i % st.cfg.cpus, orig, 0, 0, [], SNAT_NONE, true);
    runStep(st, p, ctx); // lookup (+ early drop)
    if (p.phase === PH_CONFIRM) runStep(st, p, ctx);
    if (p.outcome === O_TABLE_FULL) { dropped++; if (udp) dUdp++; else dTcp++; }
    else if (p.phase === PH_REPLY) heap.push({ t: now + rtt, kind: 0, p });
    if (st.count > peak) peak = st.count;
    nextArrival += rng.exp(1 / kn.flowRate);
    void PH_DONE;
  }
  const counters = {} as Record<CounterName, number>;
  COUNTER_NAMES.forEach((n, c) => { counters[n] = st.total(c); });
  void C_DROP;
  return {
    flows, dropped, dropRate: flows ? dropped / flows : 0, dropCi: wilson(dropped, flows), droppedUdp: dUdp, droppedTcp: dTcp,
    earlyDrops: st.total(C_EARLY_DROP), fullFraction: now > 0 ? full / now : 0, peak, max, whatIf: kn.whatIf, counters,
    ms: performance.now() - t0,
  };
}
