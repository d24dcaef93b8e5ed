"""Pure decisions over compiled values: conditions, business time, SLA clocks, routing, workflows (README.md)."""
