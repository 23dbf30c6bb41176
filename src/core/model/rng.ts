// Own small PRNG (mulberry32): deterministic for a seed, no allocation per draw, fast enough
// for >= 1e6 trials/s. Math.random is never used by the model.

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Exponential with the given mean. */
  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }
}

/** Source of nondeterministic choices: the Monte Carlo engine draws, the exhaustive engine enumerates. */
export interface Chooser {
  /** One of n alternatives, 0..n-1. */
  pick(n: number): number;
}

export class RngChooser implements Chooser {
  constructor(public rng: Rng) {}
  pick(n: number): number {
    return n <= 1 ? 0 : this.rng.int(n);
  }
}

/**
 * Replays a fixed script of choices and records the arity of every pick, so the exhaustive
 * engine can walk the tree of choices of one step (picks past the script take 0).
 */
export class ScriptChooser implements Chooser {
  script: number[] = [];
  arity: number[] = [];
  private pos = 0;
  reset(script: number[]): void {
    this.script = script;
    this.arity = [];
    this.pos = 0;
  }
  pick(n: number): number {
    const i = this.pos++;
    this.arity.push(n);
    return i < this.script.length ? this.script[i] : 0;
  }
}

/** Wilson score interval for k successes of n at ~95 %. */
export function wilson(k: number, n: number, z = 1.96): [number, number] {
  if (n === 0) return [0, 1];
  const p = k / n;
  const z2 = z * z;
  const den = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / den;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / den;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}
