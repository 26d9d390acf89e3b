// One Prometheus registry per process; every service registers its metrics here and `/metrics` renders it.
import { Registry, collectDefaultMetrics } from 'prom-client';

export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'spendops_' });
