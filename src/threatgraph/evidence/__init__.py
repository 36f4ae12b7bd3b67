"""Evidence: machine-checkable proof, in the target system's own source, that a mitigation
is in place. One module per evidence kind, registered in `registry`."""
