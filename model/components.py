"""Elements (processes, data stores, external entities) and the data assets they handle."""

from pytm import Classification, Data, Datastore, ExternalEntity, Lifetime, Process

from .zones import tb_agentnet, tb_artifact, tb_cred, tb_egress, tb_fs, tb_priv, tb_vm

# --- data assets -----------------------------------------------------------------------------
github_token = Data("GITHUB_TOKEN / GH_TOKEN", classification=Classification.SECRET,
                    isCredentials=True, credentialsLife=Lifetime.LONG,
                    description="Job-scoped GitHub token; forwarded to the agent at b8596445.")
provider_keys = Data("LLM provider keys", classification=Classification.SECRET, isCredentials=True,
                     description="OPENAI/ANTHROPIC API keys and COPILOT_GITHUB_TOKEN.")
mcp_gateway_key = Data("MCP_GATEWAY_API_KEY", classification=Classification.SECRET, isCredentials=True,
                       description="Random per-job bearer key for the gh-aw MCP gateway.")
oidc_request = Data("ACTIONS_ID_TOKEN_REQUEST_*", classification=Classification.SECRET, isCredentials=True,
                    description="OIDC request URL and token: the capability to mint cloud credentials.")
compose_secrets = Data("docker-compose.yml secrets", classification=Classification.SECRET, isCredentials=True,
                       description="Generated compose file holding keys and tokens in clear (0600).")
ca_key = Data("SSL-bump CA private key", classification=Classification.SECRET, isCredentials=True,
              description="Per-run RSA-2048 key, no passphrase, valid one day.")
ca_cert = Data("SSL-bump CA certificate", classification=Classification.PUBLIC)
placeholder_tokens = Data("Placeholder tokens", classification=Classification.PUBLIC,
                          description="Dummy key values injected when the api-proxy holds the real ones.")
workspace_source = Data("Workspace source", classification=Classification.SENSITIVE)
prompts = Data("Prompts and completions", classification=Classification.SENSITIVE,
               description="Prompts, completions, code context and tool output.")
dns_names = Data("DNS query names", classification=Classification.RESTRICTED,
                 description="Names looked up; a covert channel when attacker-chosen.")
squid_logs = Data("Squid access and cache logs", classification=Classification.RESTRICTED,
                  description="Integrity-critical audit evidence of every proxied request.")
apiproxy_logs = Data("api-proxy logs", classification=Classification.RESTRICTED)
kernel_log = Data("Kernel firewall log lines", classification=Classification.RESTRICTED)
squid_conf = Data("squid.conf (generated policy)", classification=Classification.RESTRICTED,
                  description="Allow- and block-lists interpolated from CLI flags.")
rule_set = Data("iptables rule set", classification=Classification.RESTRICTED)
container_images = Data("Container images", classification=Classification.PUBLIC)
host_tool_state = Data("Host tool caches and configuration", classification=Classification.RESTRICTED,
                       description="The runner user's ~/.cache, ~/.config, ~/.local, ~/.cargo, ~/.npm and AI CLI folders.")
seccomp_profile = Data("Agent seccomp profile", classification=Classification.RESTRICTED,
                       description="seccomp-profile.json copied into the work directory and applied by the daemon.")
mcp_traffic = Data("MCP tool calls and results", classification=Classification.SENSITIVE)
agent_output = Data("Agent stdout and stderr", classification=Classification.SENSITIVE)
host_files = Data("Host system files", classification=Classification.RESTRICTED,
                  description="/usr, /bin, /lib, selected /etc files, mounted read-only.")
leaf_certs = Data("SSL-bump per-host certificates", classification=Classification.RESTRICTED,
                  description="Certificates and keys Squid's certificate generator mints per bumped host, signed "
                              "by the run's CA.")
mcp_logs = Data("MCP gateway logs", classification=Classification.SENSITIVE,
                description="Tool calls and results the gh-aw MCP gateway logs on the host.")
preload_library = Data("one-shot-token.so", classification=Classification.PUBLIC,
                       description="The LD_PRELOAD library that unsets token variables after their first read.")
credential_files = Data("On-disk credentials", classification=Classification.SECRET, isCredentials=True,
                        description="~/.ssh keys, ~/.docker/config.json, ~/.npmrc, cloud CLI credentials, ...")

# --- runner host (Z2) ------------------------------------------------------------------------
ext_runner = ExternalEntity("GitHub Actions runner and step env", inBoundary=tb_vm,
                            description="Starts awf as root via sudo -E; holds the job's secrets.")
awf_cli = Process("awf CLI (root)", inBoundary=tb_vm,
                  description="Node CLI that writes configs, installs host rules and drives Docker.")
dockerd = Process("Docker daemon", inBoundary=tb_vm,
                  description="Root-equivalent container runtime (Z3).")
docker_socket = Datastore("Docker API socket /var/run/docker.sock", inBoundary=tb_vm,
                          description="Whoever can write to it controls the host; masked with /dev/null in the chroot.")
docker_dns = Process("Docker embedded DNS (127.0.0.11)", inBoundary=tb_vm,
                     description="Forwards container lookups to the resolvers set in compose `dns:`.")
host_fw = Process("Host netfilter chain FW_WRAPPER", inBoundary=tb_vm,
                  description="DOCKER-USER jump for traffic entering from fw-bridge; FORWARD path only.")
host_resolver = Process("Host resolver (getent hosts)", inBoundary=tb_vm,
                        description="Pre-resolves allowed domains into the chroot /etc/hosts.")
ext_mcpgw = ExternalEntity("gh-aw MCP gateway (host)", inBoundary=tb_vm,
                           description="host.docker.internal:80, reached directly with --enable-host-access.")
host_services = ExternalEntity("Other host daemons on gateway IPs", inBoundary=tb_vm,
                               description="Anything listening on the host on the allowed host ports.")
cloud_metadata = ExternalEntity("Cloud metadata service (169.254.169.254)", inBoundary=tb_vm)
ds_workdir = Datastore("AWF work directory /tmp/awf-<ts>", inBoundary=tb_vm, data=[compose_secrets, squid_conf],
                       description="0700; squid.conf, docker-compose.yml (0600, secrets in clear), seccomp profile.")
ds_ca = Datastore("SSL-bump CA store", inBoundary=tb_vm, data=[ca_key, ca_cert],
                  description="workDir/ssl on a 4 MiB host tmpfs; key 0600, mounted read-only into Squid.")
ds_klog = Datastore("Kernel log", storesLogData=True, inBoundary=tb_vm, data=[kernel_log],
                    description="FW_DNS_QUERY / FW_BLOCKED_* lines from the host chain; not rate limited.")
ds_squid_log = Datastore("Squid log directory", storesLogData=True, inBoundary=tb_vm, data=[squid_logs],
                         description="access.log and cache.log in a folder awf chmods 0777 for Squid's proxy user: "
                                     "workDir/squid-logs (hidden from the agent) unless --proxy-logs-dir names "
                                     "another; moved under host /tmp after the run.")
ds_ssl_db = Datastore("Squid certificate database workDir/ssl_db", inBoundary=tb_vm, data=[leaf_certs],
                      description="0700 under the work directory, mounted read-write into Squid at "
                                  "/var/spool/squid_ssl_db, capped at 16 MB (ssl-bump.ts, squid-config.ts).")
ds_host_system = Datastore("Host system folders and /etc files", inBoundary=tb_vm, data=[host_files],
                           description="/usr, /bin, /sbin, /lib, /lib64, /opt, /sys, /dev and seven /etc entries "
                                       "bind-mounted read-only at /host; /etc/shadow is not among them.")

# --- host filesystem views and agent-writable paths --------------------------------------------
ds_creds = Datastore("Host credential files under $HOME", inBoundary=tb_fs, data=[credential_files],
                     description="14 paths masked with /dev/null at $HOME and /host$HOME.")
ds_chroot_home = Datastore("Chroot home /tmp/awf-<ts>-chroot-home", inBoundary=tb_fs,
                           description="Empty directory mounted as the agent's $HOME, tool folders overlaid rw.")
ds_chroot_view = Datastore("Agent /host chroot view", inBoundary=tb_fs, data=[host_files, workspace_source],
                           description="System folders read-only; workspace read-write; container procfs at /host/proc.")
ds_host_tool_dirs = Datastore("Host tool folders under $HOME (read-write)", inBoundary=tb_fs, data=[host_tool_state],
                              description="The runner user's own .cache, .config, .local, .cargo, .rustup, .npm, "
                                          ".copilot, .claude and .anthropic, bind-mounted read-write into the "
                                          "chroot home (docker-manager.ts at b8596445; HOME_TOOL_PATHS at f5509576).")
ds_agent_logs = Datastore("Agent log folder workDir/agent-logs", storesLogData=True, inBoundary=tb_artifact, data=[agent_output],
                          description="Mounted read-write at ~/.copilot/logs; read back by the host after the run.")
ds_host_tmp = Datastore("Host /tmp (shared read-write)", inBoundary=tb_artifact,
                        description="Bind-mounted rw at /tmp and /host/tmp; a 1 MiB tmpfs hides the workDir.")
ds_mcp_logs = Datastore("MCP gateway log folder /tmp/gh-aw/mcp-logs", storesLogData=True, inBoundary=tb_artifact, data=[mcp_logs],
                        description="Created 0777 on the host by awf for the gateway; tmpfs overlays hide it at "
                                    "/tmp/gh-aw/mcp-logs and /host/tmp/gh-aw/mcp-logs in the agent container.")
ds_user_mounts = Datastore("Host paths added with --mount", inBoundary=tb_fs, data=[workspace_source],
                           description="Whatever the workflow names with -v/--mount (host_path:container_path[:ro|rw]); "
                                       "only the format and the host path's existence are checked.")
ds_apiproxy_log = Datastore("api-proxy log directory", storesLogData=True, inBoundary=tb_artifact, data=[apiproxy_logs],
                            description="Forced to mode 0777: workDir/api-proxy-logs (hidden from the agent) by "
                                        "default, a sibling of --proxy-logs-dir when that is set, where a folder in "
                                        "host /tmp is one the agent can rewrite.")

# --- containers ----------------------------------------------------------------------------
squid = Process("Squid forward proxy (awf-squid)", inBoundary=tb_egress, port=3128, protocol="HTTP",
                description="Domain allow-list enforcement; port 3128 published on all host interfaces.")
apiproxy = Process("api-proxy sidecar (awf-api-proxy)", inBoundary=tb_cred,
                   description="Injects provider keys; listens on 10000-10004 over plain HTTP.")
agent_init = Process("Agent container setup (entrypoint, root)", inBoundary=tb_agentnet,
                     description="Root with NET_ADMIN, SYS_CHROOT, SYS_ADMIN until capsh drops them.")
ctr_fw = Process("Agent iptables (nat/filter OUTPUT)", inBoundary=tb_agentnet,
                 description="DNAT of 80/443 to Squid and a TCP drop, installed by setup-iptables.sh.")
agent_env = Datastore("Agent process environment", inBoundary=tb_agentnet,
                      data=[github_token, mcp_gateway_key, oidc_request, placeholder_tokens],
                      description="Container env and /proc/<pid>/environ; with --env-all nearly everything.")
agent = Process("Agent workload (AI CLI and children)", inBoundary=tb_priv,
                description="Prompt-injectable AI CLI in chroot /host as the host UID, caps dropped.")
oneshot = Process("one-shot-token LD_PRELOAD library", inBoundary=tb_priv,
                  description="Caches 11 token variables on first getenv and unsets them.")
mcp_stdio = Process("stdio MCP servers", inBoundary=tb_priv,
                    description="Children of the agent; same netns, chroot and capabilities.")

# --- outside the runner (Z0 / Z1) ------------------------------------------------------------
ext_dns = ExternalEntity("Recursive DNS resolvers (8.8.8.8, 8.8.4.4 or --dns-servers)",
                         description="Public resolvers; cleartext DNS.")
ext_allowed = ExternalEntity("Allow-listed destinations", description="github.com, registries, ... (Z1).")
ext_llm = ExternalEntity("LLM provider APIs", description="api.openai.com, api.anthropic.com, api.githubcopilot.com.")
ext_reg = ExternalEntity("Container registries (GHCR, Docker Hub)")
ext_blocked = ExternalEntity("Non-allow-listed internet and attacker infrastructure",
                             description="Every destination the firewall exists to keep the agent from.")
