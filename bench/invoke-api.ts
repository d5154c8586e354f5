import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { CodeSource } from '../invoke/function-code.js';
import type { LocalFunction, PoolInvocation } from '../invoke/function-pool.js';
import { InvokeApiServer } from '../invoke/invoke-api-server.js';
import { median, round, type Summary, summarize } from './stats.js';

/**
 * A warm invocation's overhead through the local Invoke API (issue 20; target: at most 3 ms over
 * the handler's own time). Each sample is one `POST /2015-03-31/functions/{name}/invocations` on
 * a kept-alive connection, as the SDKs send it, to a function whose environment is already warm:
 * the round trip seen by the caller, minus the function's `Duration` (from the event's delivery
 * to the runtime until its answer arrives: what Lambda's REPORT line calls the handler's time).
 * The difference is everything the local Lambda adds: HTTP in and out, finding the function and
 * an idle environment, handing the event over, collecting the log tail.
 *
 * Not wired into bench/run.ts: call it with a built zip (e.g. sweep-lambda's from a scenario's
 * project) and report what it returns.
 */
export interface InvokeOverheadOptions {
  /** Timed invocations. @default 200 */
  readonly iterations?: number;
  /** Untimed invocations first (the cold start, then JIT and socket warm-up). @default 20 */
  readonly warmups?: number;
  /** The event. @default sweep-lambda's smallest useful sweep: five points of `square` */
  readonly event?: string;
  /** The function's settings. @default sweep-lambda's from the repository's cdktf.json */
  readonly function?: LocalFunction;
  /** Ask for the log tail, as `aws lambda invoke --log-type Tail` does. @default false */
  readonly tail?: boolean;
}

export interface InvokeOverheadResult {
  /** The caller's round trip. */
  readonly roundTrip: Summary;
  /** The function's own time (REPORT's Duration). */
  readonly handler: Summary;
  /** Round trip minus Duration, per invocation. */
  readonly overhead: Summary;
  /** The median overhead, the number the 3 ms target is judged on. */
  readonly medianOverheadMs: number;
}

const SWEEP_LAMBDA: LocalFunction = {
  key: 'sweep-lambda',
  functionName: 'aws-serverless-sweep',
  memorySize: 256,
  timeoutSeconds: 30,
  environment: { SWEEP_MAX_POINTS: '100000' },
  reservedConcurrency: null,
};
const SQUARE_EVENT = '{"start": 0, "stop": 10, "step": 2.5, "function": "square"}';

export async function measureInvokeApiOverhead(code: CodeSource, options: InvokeOverheadOptions = {}): Promise<InvokeOverheadResult> {
  const fn = options.function ?? SWEEP_LAMBDA;
  const event = options.event ?? SQUARE_EVENT;
  let last: PoolInvocation | undefined;
  const server = await InvokeApiServer.start({ port: 0, region: 'us-east-1', onInvocation: (_key, _type, result) => (last = result) });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    server.register(fn, code);
    const path = `/2015-03-31/functions/${fn.functionName}/invocations`;
    const headers = { 'Content-Type': 'application/json', ...(options.tail ? { 'X-Amz-Log-Type': 'Tail' } : {}) };
    const roundTrips: number[] = [];
    const durations: number[] = [];
    const overheads: number[] = [];
    const warmups = options.warmups ?? 20;
    const iterations = options.iterations ?? 200;
    for (let i = 0; i < warmups + iterations; i++) {
      const started = performance.now();
      const status = await post(agent, server.port, path, headers, event);
      const roundTrip = performance.now() - started;
      if (status !== 200) throw new Error(`invocation ${i + 1} answered ${status}`);
      const result = last;
      if (result?.kind !== 'completed' || result.outcome.kind !== 'response') {
        throw new Error(`invocation ${i + 1} did not end in a response: ${JSON.stringify(result)}`);
      }
      if (i > 0 && result.coldStart) throw new Error(`invocation ${i + 1} was a cold start: the environment was not kept warm`);
      if (i < warmups) continue;
      roundTrips.push(roundTrip);
      durations.push(result.outcome.durationMs);
      overheads.push(roundTrip - result.outcome.durationMs);
    }
    return {
      roundTrip: summarize(roundTrips),
      handler: summarize(durations),
      overhead: summarize(overheads),
      medianOverheadMs: round(median(overheads), 3),
    };
  } finally {
    agent.destroy();
    await server.close();
  }
}

/** One POST on the kept-alive agent; resolves with the status once the body has arrived. */
function post(agent: Agent, port: number, path: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path, headers, agent }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(body);
  });
}
