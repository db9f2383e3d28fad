/** The subset of autocannon 9's programmatic API the load driver uses (it ships no types). */
declare module 'autocannon' {
  interface RequestParams {
    method?: string
    path?: string
    headers?: Record<string, string>
    body?: string
  }
  interface Request extends RequestParams {
    setupRequest?: (request: RequestParams) => RequestParams
  }
  interface Options {
    url: string
    connections?: number
    amount?: number
    duration?: number
    timeout?: number
    pipelining?: number
    requests?: Request[]
  }
  interface Histogram {
    average: number
    mean: number
    stddev: number
    min: number
    max: number
    p50: number
    p90: number
    p97_5: number
    p99: number
    total: number
  }
  interface Result {
    requests: Histogram & { sent: number }
    latency: Histogram
    throughput: Histogram
    errors: number
    timeouts: number
    non2xx: number
    mismatches: number
    resets: number
    duration: number
    '2xx': number
  }
  interface Instance extends PromiseLike<Result> {
    stop(): void
  }
  function autocannon(options: Options): Instance
  export default autocannon
}
