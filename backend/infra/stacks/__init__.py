"""One module per stack; each only composes constructs."""
