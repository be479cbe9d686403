"""Route handlers, one module per spec resource."""
