/**
 * The parts of prom-client the agent uses, each from its own module. prom-client's index also
 * loads its Pushgateway (node:http, https, tls, crypto, zlib) and its AggregatorRegistry
 * (node:cluster) for every user: in an agent that writes a textfile, that was megabytes of
 * RSS for code it never runs (bench/agent-startup.ts --part memory; docs/architecture.md).
 */
import Counter from "prom-client/lib/counter.js";
import collectDefaultMetrics from "prom-client/lib/defaultMetrics.js";
import Gauge from "prom-client/lib/gauge.js";
import Registry from "prom-client/lib/registry.js";

export { Counter, Gauge, Registry, collectDefaultMetrics };
