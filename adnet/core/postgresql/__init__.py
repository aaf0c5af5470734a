"""Django's PostgreSQL backend, bounded by the request's deadline (adnet.core.deadline)."""
