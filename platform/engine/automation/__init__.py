"""Rules applied to tickets as they change: routing, automations, SLA clocks, and the scheduler's jobs."""
