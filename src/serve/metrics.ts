/**
 * What `GET /metrics` reports, in Prometheus text format: requests by route and status, request
 * latency, the sizes of the batches the graph ran, the queue depth and the images scored.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'simplenet_http_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'],
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'simplenet_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'simplenet_batch_size',
    help: 'Images per run of the scoring graph',
    labelNames: ['model'],
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [this.registry],
  });
  readonly batchSeconds = new Histogram({
    name: 'simplenet_batch_duration_seconds',
    help: 'Seconds per run of the scoring graph',
    labelNames: ['model'],
    registers: [this.registry],
  });
  readonly images = new Counter({ name: 'simplenet_images_scored_total', help: 'Images scored', labelNames: ['model'], registers: [this.registry] });

  constructor(queueDepth: () => number) {
    new Gauge({
      name: 'simplenet_queue_depth',
      help: 'Images waiting for the scoring graph',
      registers: [this.registry],
      collect() {
        this.set(queueDepth());
      },
    });
  }

  batch(model: string, size: number, seconds: number): void {
    this.batchSize.observe({ model }, size);
    this.batchSeconds.observe({ model }, seconds);
    this.images.inc({ model }, size);
  }
}
