"""threatgraph itself, as a data-flow model.

Trust model: the model file and site/mkdocs.yml are code, and run as code (review them like
code); the catalogs, the target's source tree and its git history are untrusted data, which
anyone can change in a pull request. What threatgraph writes (its standard output, the output
folder, the site) is read by CI, by code scanning and by reviewers' browsers.
"""

from pytm import TM, Boundary, Classification, Data, Dataflow, Datastore, ExternalEntity, Process

tm = TM(
    "threatgraph",
    description="threatgraph run in CI on a pull request: it loads a pytm model, YAML catalogs and the target's "
    "source, and writes reports, SARIF, diagrams and a site that gates the merge.",
    isOrdered=False,
)

# --- trust boundaries ----------------------------------------------------------------------
pull_request = Boundary("Pull request contents (untrusted)")
runner = Boundary("CI runner")
process = Boundary("threatgraph process", inBoundary=runner)
model_sandbox = Boundary("Model child process", inBoundary=runner)
outputs = Boundary("Output folder and streams", inBoundary=runner)
github = Boundary("GitHub")
workstation = Boundary("Architect's workstation (a clone opened in an editor)")

# --- data ----------------------------------------------------------------------------------
catalog_yaml = Data("Threat and mitigation YAML", classification=Classification.PUBLIC)
model_code = Data("Model file (Python)", classification=Classification.PUBLIC)
source_files = Data("Target source files", classification=Classification.RESTRICTED)
vcs_credentials = Data("Git credentials in .git/config (extraheader token)", classification=Classification.SECRET,
                       isCredentials=True)
snapshot = Data("Model snapshot (pickled frozen records)", classification=Classification.PUBLIC)
cache_entry = Data("Cached model snapshot (tagged JSON)", classification=Classification.PUBLIC)
cached_verdict = Data("Cached check verdict (its text and exit code, JSON)", classification=Classification.RESTRICTED)
verdict = Data("Verdict and findings (text, JSON, SARIF, Markdown)", classification=Classification.RESTRICTED)
site_pages = Data("Site pages and diagrams (HTML, SVG)", classification=Classification.RESTRICTED)
action_inputs = Data("Action inputs (paths, revisions)", classification=Classification.PUBLIC)
foreign_model = Data("Another tool's model (OTM or Threat Dragon JSON)", classification=Classification.PUBLIC)
spreadsheet = Data("Pairs as CSV or XLSX", classification=Classification.RESTRICTED)
editor_buffers = Data("Unsaved catalog text and editor requests (LSP)", classification=Classification.PUBLIC)
editor_answers = Data("Diagnostics, hovers, definitions and completions (LSP)", classification=Classification.RESTRICTED)

# --- elements ------------------------------------------------------------------------------
contributor = ExternalEntity("Pull request author", inBoundary=pull_request,
                             description="Anyone who can open a pull request against the threat-model repository "
                                         "or the target system.")
catalogs = Datastore("Catalog files (threats/, mitigations/)", inBoundary=pull_request,
                     description="YAML read with a safe loader; untrusted data.")
model_file = Datastore("Model file (model/*.py)", inBoundary=pull_request,
                       description="Python, run as code in a forked child process.")
site_config = Datastore("site/mkdocs.yml and site/docs", inBoundary=pull_request,
                        description="mkdocs configuration (code: hooks and plugins) and hand-written pages.")
target_tree = Datastore("Target source tree (--source)", inBoundary=pull_request,
                        description="A checkout of the system under review; may hold .git with credentials, "
                                    "symlinks, FIFOs and devices.")
git_store = Datastore("Git object store (--source-ref, diff)", inBoundary=pull_request,
                      description="Read through git rev-parse, ls-tree, cat-file --batch and archive.")
cli = Process("threatgraph CLI", inBoundary=process,
              description="Parses arguments, loads config, catalogs and evidence, assesses and renders.")
catalog_loader = Process("Catalog loader", inBoundary=process, description="Safe YAML reader and validators.")
evidence_runner = Process("Evidence runner", inBoundary=process,
                          description="Confined reads of the target; globs, regexes, pointers.")
model_loader = Process("Model loader (child process)", inBoundary=model_sandbox,
                       description="Runs the model file with stdout sent to stderr and a time limit.")
renderer = Process("Renderers (DOT, SVG, Markdown, SARIF, site)", inBoundary=process)
graphviz = Process("Graphviz (dot or embedded wasm)", inBoundary=runner)
mkdocs = Process("mkdocs build", inBoundary=runner, description="Runs the site config's hooks and plugins.")
snapshot_cache = Datastore("Snapshot cache (the user's cache folder)", inBoundary=runner,
                           description="model/cache.py: an unchanged model's snapshot, reused instead of running it; "
                           "verdict_cache.py: the verdict of a check whose inputs are all unchanged.")
out_folder = Datastore("Output folder (build/)", inBoundary=outputs,
                       description="Staged beside the old one, swapped in atomically.")
stdout_stream = Datastore("Machine-readable standard output", inBoundary=outputs,
                          description="JSON and SARIF parsed by CI and code scanning.")
action = Process("GitHub Action (action.yml)", inBoundary=runner,
                 description="Composite action: inputs reach bash through environment variables.")
step_outputs = Datastore("$GITHUB_OUTPUT and the job summary", inBoundary=github)
reviewer = ExternalEntity("Security reviewer's browser", inBoundary=github)
foreign_file = Datastore("File exported by another tool (import otm|threat-dragon)", inBoundary=pull_request,
                         description="Written by IriusRisk, startleft, Threat Dragon or anyone; hostile names included.")
importer = Process("Importers (OTM, Threat Dragon)", inBoundary=process,
                   description="Read another tool's JSON and generate a pytm model file and catalogs.")
spreadsheet_app = ExternalEntity("Spreadsheet or tracker opening the export", inBoundary=github,
                                 description="Excel, LibreOffice, Jira or Azure DevOps importing CSV/XLSX.")
editor = ExternalEntity("Architect's editor (VS Code, Neovim: an LSP client)", inBoundary=workstation,
                        description="Applies what the server sends: a message it did not ask for could edit files.")
language_server = Process("threatgraph lsp", inBoundary=workstation,
                          description="threatgraph.editor: diagnostics and hovers from the loaders; the model runs "
                                      "in a fresh interpreter, on save.")

# --- flows ---------------------------------------------------------------------------------
author_edits_catalogs = Dataflow(contributor, catalogs, "edits catalogs in a pull request", protocol="git",
                                 data=[catalog_yaml])
author_edits_model = Dataflow(contributor, model_file, "edits the model in a pull request", protocol="git",
                              data=[model_code])
author_edits_target = Dataflow(contributor, target_tree, "changes the target's source", protocol="git",
                               data=[source_files])
catalogs_to_loader = Dataflow(catalogs, catalog_loader, "catalog YAML read", protocol="file", data=[catalog_yaml])
model_to_loader = Dataflow(model_file, model_loader, "model file executed", protocol="python", data=[model_code])
loader_to_cli = Dataflow(model_loader, cli, "snapshot sent back over a pipe", protocol="pipe", data=[snapshot])
catalog_to_cli = Dataflow(catalog_loader, cli, "validated catalog", protocol="call", data=[catalog_yaml])
cli_writes_cache = Dataflow(cli, snapshot_cache, "snapshot written for the next run", protocol="file", data=[cache_entry])
cache_to_cli = Dataflow(snapshot_cache, cli, "cached snapshot read instead of running the model", protocol="file",
                        data=[cache_entry])
cli_writes_verdict = Dataflow(cli, snapshot_cache, "check verdict kept for an unchanged rerun", protocol="file",
                              data=[cached_verdict])
verdict_to_cli = Dataflow(snapshot_cache, cli, "cached verdict printed instead of computing it", protocol="file",
                          data=[cached_verdict])
tree_to_evidence = Dataflow(target_tree, evidence_runner, "source files read as evidence", protocol="file",
                            data=[source_files, vcs_credentials])
git_to_evidence = Dataflow(git_store, evidence_runner, "blobs read at a revision", protocol="git",
                           data=[source_files])
evidence_to_cli = Dataflow(evidence_runner, cli, "evidence results with matched text", protocol="call",
                           data=[verdict])
cli_to_renderer = Dataflow(cli, renderer, "assessment rendered", protocol="call", data=[verdict])
renderer_to_graphviz = Dataflow(renderer, graphviz, "DOT source", protocol="pipe", data=[site_pages])
site_config_to_mkdocs = Dataflow(site_config, mkdocs, "mkdocs.yml and pages", protocol="file", data=[site_pages])
renderer_to_mkdocs = Dataflow(renderer, mkdocs, "generated pages", protocol="file", data=[site_pages])
renderer_to_out = Dataflow(renderer, out_folder, "reports, diagrams, site", protocol="file",
                           data=[verdict, site_pages])
renderer_to_stdout = Dataflow(renderer, stdout_stream, "JSON / SARIF on standard output", protocol="stream",
                              data=[verdict])
contributor_sets_inputs = Dataflow(contributor, action, "workflow inputs", protocol="yaml", data=[action_inputs])
action_to_cli = Dataflow(action, cli, "command line", protocol="exec", data=[action_inputs])
action_to_outputs = Dataflow(action, step_outputs, "step outputs and summary", protocol="file",
                             data=[action_inputs, verdict])
site_to_reviewer = Dataflow(out_folder, reviewer, "site opened by a reviewer", protocol="HTTPS", data=[site_pages])
foreign_to_importer = Dataflow(foreign_file, importer, "foreign model read", protocol="file", data=[foreign_model])
importer_writes_model = Dataflow(importer, model_file, "generated model file and catalogs", protocol="file",
                                 data=[model_code, catalog_yaml])
export_to_spreadsheet = Dataflow(renderer, spreadsheet_app, "CSV / XLSX of the pairs opened", protocol="file",
                                 data=[spreadsheet])
editor_to_lsp = Dataflow(editor, language_server, "opened, changed and saved documents; hover, definition, completion",
                         protocol="LSP over stdio", data=[editor_buffers])
lsp_to_editor = Dataflow(language_server, editor, "diagnostics, hovers, locations, completions", protocol="LSP over stdio",
                         data=[editor_answers])
lsp_runs_model = Dataflow(language_server, model_loader, "model run in a fresh interpreter after a save", protocol="exec",
                          data=[model_code])
model_to_lsp = Dataflow(model_loader, language_server, "snapshot as tagged JSON over a pipe", protocol="pipe",
                        data=[cache_entry])
