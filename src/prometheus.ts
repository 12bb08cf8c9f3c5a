/**
 * `live-crew/prometheus`: metrics for Prometheus. Loads prom-client; `metrics_port` selects it
 * without this import.
 */
export { PrometheusMonitor } from './adapters/prometheus/prometheus-monitor.js';
