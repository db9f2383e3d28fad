/**
 * In-memory MeterProvider and TracerProvider implementing @opentelemetry/api's interfaces:
 * they remember every instrument created and every measurement and span recorded, so a
 * test can assert exactly what the bridge produced.
 */
import { SpanStatusCode } from '@opentelemetry/api'
import type {
  Attributes,
  BatchObservableCallback,
  Context,
  Counter,
  Exception,
  Gauge,
  Histogram,
  Link,
  Meter,
  MeterProvider,
  MetricOptions,
  Observable,
  ObservableCallback,
  ObservableCounter,
  ObservableGauge,
  ObservableResult,
  ObservableUpDownCounter,
  Span,
  SpanContext,
  SpanOptions,
  SpanStatus,
  TimeInput,
  Tracer,
  TracerProvider,
  UpDownCounter,
} from '@opentelemetry/api'

export interface CreatedInstrument {
  readonly meter: string
  readonly name: string
  readonly kind: string
  readonly options: MetricOptions | undefined
}

export interface Measurement {
  readonly instrument: string
  readonly value: number
  readonly attributes: Attributes
}

class FakeObservable implements ObservableGauge, ObservableCounter, ObservableUpDownCounter {
  readonly callbacks = new Set<ObservableCallback>()
  addCallback(callback: ObservableCallback): void {
    this.callbacks.add(callback)
  }
  removeCallback(callback: ObservableCallback): void {
    this.callbacks.delete(callback)
  }
}

export class FakeMeter implements Meter {
  readonly created: CreatedInstrument[] = []
  readonly measurements: Measurement[] = []
  readonly observables = new Map<string, FakeObservable>()

  constructor(readonly meterName: string) {}

  private sync(kind: string, name: string, options: MetricOptions | undefined): Counter & Histogram & UpDownCounter & Gauge {
    this.created.push({ meter: this.meterName, name, kind, options })
    const push = (value: number, attributes?: Attributes): void => {
      this.measurements.push({ instrument: name, value, attributes: attributes ?? {} })
    }
    return { add: push, record: push }
  }
  private observable(kind: string, name: string, options: MetricOptions | undefined): FakeObservable {
    this.created.push({ meter: this.meterName, name, kind, options })
    const o = new FakeObservable()
    this.observables.set(name, o)
    return o
  }
  createGauge(name: string, options?: MetricOptions): Gauge {
    return this.sync('gauge', name, options)
  }
  createHistogram(name: string, options?: MetricOptions): Histogram {
    return this.sync('histogram', name, options)
  }
  createCounter(name: string, options?: MetricOptions): Counter {
    return this.sync('counter', name, options)
  }
  createUpDownCounter(name: string, options?: MetricOptions): UpDownCounter {
    return this.sync('upDownCounter', name, options)
  }
  createObservableGauge(name: string, options?: MetricOptions): ObservableGauge {
    return this.observable('observableGauge', name, options)
  }
  createObservableCounter(name: string, options?: MetricOptions): ObservableCounter {
    return this.observable('observableCounter', name, options)
  }
  createObservableUpDownCounter(name: string, options?: MetricOptions): ObservableUpDownCounter {
    return this.observable('observableUpDownCounter', name, options)
  }
  addBatchObservableCallback(_callback: BatchObservableCallback, _observables: Observable[]): void {
    throw new Error('not used by the bridge')
  }
  removeBatchObservableCallback(_callback: BatchObservableCallback, _observables: Observable[]): void {
    throw new Error('not used by the bridge')
  }

  /** Values of one instrument, in order. */
  values(instrument: string): number[] {
    return this.measurements.filter((m) => m.instrument === instrument).map((m) => m.value)
  }

  /** Measurements of one instrument as [value, attributes]. */
  of(instrument: string): [number, Attributes][] {
    return this.measurements.filter((m) => m.instrument === instrument).map((m) => [m.value, m.attributes])
  }

  /** Sum of a counter's increments per attribute set (JSON of the attributes). */
  sums(instrument: string): Record<string, number> {
    const out: Record<string, number> = {}
    for (const m of this.measurements) if (m.instrument === instrument) out[JSON.stringify(m.attributes)] = (out[JSON.stringify(m.attributes)] ?? 0) + m.value
    return out
  }

  /** Runs an observable's callbacks, as a collection would, and returns what they observed. */
  collect(instrument: string): [number, Attributes][] {
    const seen: [number, Attributes][] = []
    const result: ObservableResult = {
      observe: (value: number, attributes?: Attributes) => {
        seen.push([value, attributes ?? {}])
      },
    }
    for (const cb of this.observables.get(instrument)?.callbacks ?? []) void cb(result)
    return seen
  }
}

export class FakeMeterProvider implements MeterProvider {
  readonly meters: FakeMeter[] = []
  getMeter(name: string): Meter {
    const meter = new FakeMeter(name)
    this.meters.push(meter)
    return meter
  }
  /** The one meter the bridge asked for. */
  get meter(): FakeMeter {
    if (this.meters.length !== 1) throw new Error(`expected one meter, got ${this.meters.length}`)
    return this.meters[0]!
  }
}

export class FakeSpan implements Span {
  readonly attributes: Attributes
  readonly exceptions: Exception[] = []
  status: SpanStatus = { code: SpanStatusCode.UNSET }
  endTime: TimeInput | undefined
  ended = 0
  constructor(
    readonly name: string,
    readonly options: SpanOptions,
  ) {
    this.attributes = { ...options.attributes }
  }
  spanContext(): SpanContext {
    return { traceId: '0'.repeat(31) + '1', spanId: '0'.repeat(15) + '1', traceFlags: 1 }
  }
  setAttribute(key: string, value: Attributes[string]): this {
    this.attributes[key] = value
    return this
  }
  setAttributes(attributes: Attributes): this {
    Object.assign(this.attributes, attributes)
    return this
  }
  addEvent(): this {
    return this
  }
  addLink(_link: Link): this {
    return this
  }
  addLinks(_links: Link[]): this {
    return this
  }
  setStatus(status: SpanStatus): this {
    this.status = status
    return this
  }
  updateName(): this {
    return this
  }
  end(endTime?: TimeInput): void {
    this.ended++
    this.endTime = endTime
  }
  isRecording(): boolean {
    return this.ended === 0
  }
  recordException(exception: Exception): void {
    this.exceptions.push(exception)
  }
  /** Duration from the explicit start and end times (ms). */
  get durationMs(): number {
    return (this.endTime as number) - (this.options.startTime as number)
  }
}

export class FakeTracer implements Tracer {
  readonly spans: FakeSpan[] = []
  startSpan(name: string, options: SpanOptions = {}, _context?: Context): Span {
    const span = new FakeSpan(name, options)
    this.spans.push(span)
    return span
  }
  startActiveSpan(): never {
    throw new Error('not used by the bridge')
  }
}

export class FakeTracerProvider implements TracerProvider {
  readonly tracers: { name: string; tracer: FakeTracer }[] = []
  getTracer(name: string): Tracer {
    const tracer = new FakeTracer()
    this.tracers.push({ name, tracer })
    return tracer
  }
  get tracer(): FakeTracer {
    if (this.tracers.length !== 1) throw new Error(`expected one tracer, got ${this.tracers.length}`)
    return this.tracers[0]!.tracer
  }
}
