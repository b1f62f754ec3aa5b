// The open loop of `make bench-serving` (benchmarks/loadgen.py): k6's constant-arrival-rate
// executor starts RATE requests per second, evenly spaced, whether or not earlier ones have
// answered (a new virtual user takes a request when every other one is waiting), so a slow
// server is not sent less. Every request's own time goes into p50/p99/p99.9.
import http from 'k6/http';

const body = open(__ENV.BODY);

export const options = {
  discardResponseBodies: true,
  summaryTrendStats: ['p(50)', 'p(99)', 'p(99.9)', 'max'],
  scenarios: {
    open: {
      executor: 'constant-arrival-rate',
      rate: Number(__ENV.RATE),
      timeUnit: '1s',
      duration: __ENV.DURATION,
      preAllocatedVUs: 16,
      maxVUs: 512,
    },
  },
};

export default function () {
  http.post(__ENV.URL, body, { headers: { 'Content-Type': 'application/json' } });
}

export function handleSummary(data) {
  return { [__ENV.SUMMARY]: JSON.stringify(data.metrics) };
}
