import { availableParallelism, loadavg } from "node:os";

/**
 * Order statistics for the benchmarks, said honestly: how many trials, how many missed the
 * budget (censored: they count, as "slower than the budget", never silently dropped), and what
 * a percentile of a few trials can and cannot claim.
 */

/** Trials of one measurement: the times that were observed, and how many missed the budget. */
export interface Trials {
  /** observed values (ms), any order */
  readonly values: readonly number[];
  /** trials that did not finish within the budget: slower than budgetMs, value unknown */
  readonly censored: number;
  readonly budgetMs?: number;
  /** what a censored trial is, for the printed line; default "over the <budget> budget" */
  readonly censoredAs?: string;
}

/** What a percentile of these trials says: a value, "above the budget", or nothing. */
export type Quantile =
  | { readonly kind: "value"; readonly ms: number }
  | { readonly kind: "above-budget" }
  | { readonly kind: "none" };

/**
 * Nearest-rank percentile (the smallest value with at least p % of the trials at or below
 * it) over every trial, censored ones ranked last. With n < 100, p99's rank is n: the max.
 */
export function percentile(trials: Trials, p: number): Quantile {
  const n = trials.values.length + trials.censored;
  if (n === 0) return { kind: "none" };
  const rank = Math.max(1, Math.ceil((p / 100) * n));
  const sorted = [...trials.values].sort((a, b) => a - b);
  return rank <= sorted.length ? { kind: "value", ms: sorted[rank - 1]! } : { kind: "above-budget" };
}

/** P(B <= k) for k = 0..n, B ~ Binomial(n, q): the pmf built in log space (no underflow for large n). */
function binomialCdfs(n: number, q: number): number[] {
  const cdfs: number[] = [];
  let logPmf = n * Math.log1p(-q); // P(B = 0)
  let sum = 0;
  for (let k = 0; k <= n; k++) {
    sum += Math.exp(logPmf);
    cdfs.push(sum);
    logPmf += Math.log(n - k) - Math.log(k + 1) + Math.log(q) - Math.log1p(-q);
  }
  return cdfs;
}

/**
 * A distribution-free confidence interval for the q-quantile from order statistics (ranks
 * 1-based, censored trials ranked last): the ranks [lo, hi] with P(X(lo) <= x_q <= X(hi)) >= conf,
 * or undefined when n trials cannot give one at that confidence (too few for p99, say).
 * Symmetric in tail probability, as in Hahn & Meeker, "Statistical Intervals", §5.2.
 */
export function quantileInterval(
  n: number,
  q: number,
  conf = 0.95,
): { readonly lo: number; readonly hi: number } | undefined {
  const tail = (1 - conf) / 2;
  const cdf = binomialCdfs(n, q);
  // lo: the largest rank with P(B <= lo - 1) <= tail; hi: the smallest with P(B >= hi) <= tail
  let lo = 0;
  while (lo < n && cdf[lo]! <= tail) lo++;
  let hi = n + 1;
  while (hi > 1 && 1 - cdf[hi - 2]! <= tail) hi--;
  if (lo < 1 || hi > n) return undefined;
  return { lo, hi };
}

/** The fewest trials from which quantileInterval can give a 95 % interval for q (6 for p50, 367 for p99). */
export function minTrialsForInterval(q: number, conf = 0.95): number {
  let n = 1;
  while (quantileInterval(n, q, conf) === undefined) n++;
  return n;
}

/** "0.41 ms", "5.03 s": three significant figures, the unit chosen for the size. */
export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toPrecision(3)} s`;
  return `${ms.toPrecision(3)} ms`;
}

function formatQuantile(q: Quantile, budgetMs: number | undefined): string {
  if (q.kind === "value") return formatMs(q.ms);
  if (q.kind === "above-budget") return budgetMs === undefined ? "not restored" : `> ${formatMs(budgetMs)}`;
  return "-";
}

/** The value at a 1-based rank over every trial, censored ones last. */
function atRank(trials: Trials, rank: number): string {
  const sorted = [...trials.values].sort((a, b) => a - b);
  const value = sorted[rank - 1];
  return value === undefined ? formatQuantile({ kind: "above-budget" }, trials.budgetMs) : formatMs(value);
}

/**
 * One line: n, censored, p50 with its 95 % interval, p99 and what it rests on, max. E.g.
 * `n 50 (0 over budget): p50 0.412 ms [0.390-0.450 ms, 95 %], p99 3.10 ms (n < 100: the max of 50)`.
 */
export function describeTrials(trials: Trials): string {
  const n = trials.values.length + trials.censored;
  if (n === 0) return "n 0: no trials";
  const over = `${trials.censored} ${trials.censoredAs ?? `over the ${trials.budgetMs === undefined ? "" : `${formatMs(trials.budgetMs)} `}budget`}`;
  const p50 = formatQuantile(percentile(trials, 50), trials.budgetMs);
  const p50ci = quantileInterval(n, 0.5);
  const p50note = p50ci
    ? `[${atRank(trials, p50ci.lo)} to ${atRank(trials, p50ci.hi)}, 95 %]`
    : `(no 95 % interval from ${n} trials)`;
  const p99 = formatQuantile(percentile(trials, 99), trials.budgetMs);
  const p99ci = quantileInterval(n, 0.99);
  const p99note =
    n < 100
      ? `(n < 100: the max of ${n}, not a p99 estimate)`
      : p99ci
        ? `[${atRank(trials, p99ci.lo)} to ${atRank(trials, p99ci.hi)}, 95 %]`
        : `(n ${n}: a 95 % interval needs n >= ${minTrialsForInterval(0.99)}; the max is ${atRank(trials, n)})`;
  return `n ${n} (${over}): p50 ${p50} ${p50note}, p99 ${p99} ${p99note}`;
}

/** "load 21.3 / 19.8 / 15.0 on 2 CPUs": how busy the machine was, printed beside every figure. */
export function machineLoad(): string {
  const [one, five, fifteen] = loadavg().map((l) => l.toFixed(1));
  return `load ${one} / ${five} / ${fifteen} on ${availableParallelism()} CPUs`;
}
