"""The Patronus REST API Lambda: one function, one resolver, route modules per resource."""
