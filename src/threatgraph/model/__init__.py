"""The pytm model: loading it in a child process and its frozen snapshot."""
