"""Field types (a registry) and ticket data validation: a pure core (README.md)."""
