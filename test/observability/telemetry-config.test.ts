// The telemetry section: every key configures the tracer, bad values stop start-up with the key named.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { tracesUrl } from '../../src/observability/tracing.ts';

const load = (env: Record<string, string>) => loadConfig({ flags: {}, env });

describe('telemetry configuration', () => {
  it('is off by default, with the documented defaults', () => {
    expect(load({}).telemetry).toEqual({ otlp_endpoint: undefined, sampling_ratio: 0.01, service_name: 'caxton', max_queued_spans: 2048, export_interval_ms: 1000 });
  });

  it('reads the endpoint and a ratio written as text', () => {
    const t = load({ CAXTON_TELEMETRY_OTLP_ENDPOINT: 'http://collector:4318', CAXTON_TELEMETRY_SAMPLING_RATIO: '0.25' }).telemetry;
    expect(t.otlp_endpoint).toBe('http://collector:4318');
    expect(t.sampling_ratio).toBe(0.25);
    expect(tracesUrl(t.otlp_endpoint!)).toBe('http://collector:4318/v1/traces');
    expect(tracesUrl('https://otel.example/custom/path')).toBe('https://otel.example/custom/path');
  });

  it.each([
    ['CAXTON_TELEMETRY_SAMPLING_RATIO', '1.5', /telemetry\.sampling_ratio: expected a number from 0 to 1/],
    ['CAXTON_TELEMETRY_SAMPLING_RATIO', 'half', /telemetry\.sampling_ratio: expected a number from 0 to 1/],
    ['CAXTON_TELEMETRY_OTLP_ENDPOINT', 'collector:4318', /telemetry\.otlp_endpoint: expected an http\(s\) URL/],
    ['CAXTON_TELEMETRY_MAX_QUEUED_SPANS', '0', /telemetry\.max_queued_spans: expected a positive integer/],
    ['CAXTON_LOG_FORMAT', 'fancy', /log\.format: expected one of auto, json, pretty/],
  ])('%s=%s stops start-up with the key named', (name, value, message) => {
    expect(() => load({ [name]: value })).toThrow(message);
  });
});
