"""The editor integration: `threatgraph lsp`, a language server for the catalogs and the model.

`project` holds what the server knows about one project (its diagnostics, hovers, definitions
and completions, computed by threatgraph's own loaders and free of the protocol); `server`
wires it to the Language Server Protocol through pygls."""
