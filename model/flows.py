"""Data flows F01-F22 of the architecture inventory (plus the hops it folds together), and the
attack edges: flows the design exists to block, marked isAttack=True so bypass threats land
on them and diagrams draw them dashed."""

from pytm import Dataflow

from .components import (
    agent, agent_env, agent_init, agent_output, apiproxy, apiproxy_logs, awf_cli, ca_cert, ca_key,
    cloud_metadata, compose_secrets, container_images, ctr_fw, docker_dns, docker_socket, dockerd, dns_names, ds_apiproxy_log,
    ds_ca, ds_chroot_view, ds_creds, ds_host_tmp, ds_klog, ds_squid_log, ds_workdir, ext_allowed,
    ext_blocked, ext_dns, ext_llm, ext_mcpgw, ext_reg, ext_runner, github_token, host_files, host_fw,
    host_resolver, host_services, kernel_log, mcp_gateway_key, mcp_stdio, mcp_traffic, oidc_request, oneshot,
    placeholder_tokens, prompts, provider_keys, rule_set, squid, squid_conf, squid_logs, workspace_source,
    credential_files, ds_chroot_home, seccomp_profile, ds_host_tool_dirs, ds_agent_logs, host_tool_state,
    ds_ssl_db, leaf_certs, ds_host_system, ds_mcp_logs, mcp_logs, ds_user_mounts, preload_library,
)


def flow(source, sink, name, *, protocol="", port=-1, data=(), encrypted=False, authenticated=False,
         description="", attack=False):
    f = Dataflow(source, sink, name, protocol=protocol, dstPort=port, data=list(data),
                 description=description, isAttack=attack)
    f.controls.isEncrypted = encrypted
    f.controls.authenticatesSource = authenticated
    return f


# --- host side -------------------------------------------------------------------------------
runner_env_to_cli = flow(ext_runner, awf_cli, "F01 step env to awf (sudo -E)", protocol="process-env",
                         data=[github_token, provider_keys, mcp_gateway_key, oidc_request])
cli_writes_workdir = flow(awf_cli, ds_workdir, "F02 write compose file, squid.conf, seccomp", protocol="file",
                          data=[compose_secrets, squid_conf])
cli_to_dockerd = flow(awf_cli, docker_socket, "F03 compose up / logs / wait", protocol="unix-socket",
                      authenticated=True, data=[compose_secrets])
socket_to_dockerd = flow(docker_socket, dockerd, "Docker API requests to the daemon", protocol="unix-socket",
                         data=[compose_secrets])
cli_installs_host_rules = flow(awf_cli, host_fw, "F04 install FW_WRAPPER rules", protocol="exec",
                               data=[rule_set])
cli_resolves_domains = flow(awf_cli, host_resolver, "F05 getent hosts for allowed domains", protocol="exec",
                            data=[dns_names])
dockerd_pulls_images = flow(dockerd, ext_reg, "F06 image pulls by tag", protocol="HTTPS", port=443,
                            encrypted=True, data=[container_images])
cli_writes_ca = flow(awf_cli, ds_ca, "Generate SSL-bump CA", protocol="file", data=[ca_key, ca_cert])
cli_sets_agent_env = flow(awf_cli, agent_env, "Compose environment for the agent", protocol="process-env",
                          data=[github_token, mcp_gateway_key, oidc_request, placeholder_tokens])

# files written by one component and read by another, and the containers the daemon starts
workdir_conf_to_squid = flow(ds_workdir, squid, "squid.conf bind-mounted read-only into Squid", protocol="bind-mount",
                             data=[squid_conf])
workdir_seccomp_to_dockerd = flow(ds_workdir, dockerd, "seccomp profile applied to the agent container",
                                  protocol="file", data=[seccomp_profile])
cli_writes_chroot_hosts = flow(awf_cli, ds_chroot_view, "pre-resolved /etc/hosts written for the chroot",
                               protocol="file", data=[dns_names])
cli_sets_apiproxy_env = flow(awf_cli, apiproxy, "provider keys put in the api-proxy's environment",
                             protocol="process-env", data=[provider_keys])
dockerd_starts_agent = flow(dockerd, agent_init, "the daemon starts awf-agent from its image", protocol="container",
                            data=[container_images])
dockerd_starts_squid = flow(dockerd, squid, "the daemon starts awf-squid from its image", protocol="container",
                            data=[container_images])
dockerd_starts_apiproxy = flow(dockerd, apiproxy, "the daemon starts awf-api-proxy from its image",
                               protocol="container", data=[container_images])

# --- agent egress --------------------------------------------------------------------------
agent_to_squid = flow(agent, squid, "F07 HTTP(S) via proxy (CONNECT or absolute URI)", protocol="HTTP",
                      port=3128, encrypted=True, data=[prompts, workspace_source],
                      description="HTTP(S)_PROXY points at 172.30.0.10:3128; TLS end to end inside CONNECT.")
agent_dnat_to_squid = flow(agent, squid, "F08 direct 80/443 redirected to Squid (DNAT)", protocol="TCP",
                           port=443, data=[prompts],
                           description="nat OUTPUT DNAT; Squid is a forward proxy, so raw bytes fail closed.")
agent_dns = flow(agent, ext_dns, "F09 DNS to the configured resolvers", protocol="DNS", port=53,
                 data=[dns_names], description="UDP/TCP 53 allowed only to the configured resolvers.")
agent_dns_embedded = flow(agent, docker_dns, "F09 DNS to Docker embedded DNS", protocol="DNS", port=53,
                          data=[dns_names])
docker_dns_forward = flow(docker_dns, ext_dns, "Embedded DNS forwards to the resolvers", protocol="DNS",
                          port=53, data=[dns_names])
agent_to_apiproxy = flow(agent, apiproxy, "F10 LLM calls to api-proxy", protocol="HTTP", port=10000,
                         data=[prompts, placeholder_tokens],
                         description="Plain HTTP to 172.30.0.30:10000-10004; no client authentication.")
apiproxy_to_squid = flow(apiproxy, squid, "F11 api-proxy CONNECT via Squid", protocol="HTTP", port=3128,
                         encrypted=True, data=[prompts, provider_keys])
squid_to_llm = flow(squid, ext_llm, "F11 Squid to LLM providers", protocol="HTTPS", port=443,
                    encrypted=True, data=[prompts, provider_keys])
squid_to_allowed = flow(squid, ext_allowed, "F12 Squid to allow-listed destinations", protocol="HTTPS",
                        port=443, encrypted=True, data=[prompts, workspace_source])
squid_dns = flow(squid, ext_dns, "F13 Squid DNS to hard-coded resolvers", protocol="DNS", port=53,
                 data=[dns_names], description="dns_nameservers 8.8.8.8 8.8.4.4, whatever --dns-servers says.")
squid_writes_log = flow(squid, ds_squid_log, "F14 access log", protocol="file", data=[squid_logs])
apiproxy_writes_log = flow(apiproxy, ds_apiproxy_log, "F15 api-proxy log", protocol="file",
                           data=[apiproxy_logs])
agent_to_mcpgw = flow(agent, ext_mcpgw, "F16 MCP over HTTP to the host gateway", protocol="HTTP", port=80,
                      data=[mcp_traffic, mcp_gateway_key],
                      description="Bearer key at the application layer; goes through INPUT, not DOCKER-USER.")
agent_to_mcp_stdio = flow(agent, mcp_stdio, "F17 JSON-RPC over pipes", protocol="pipe", data=[mcp_traffic])
agent_uses_chroot = flow(agent, ds_chroot_view, "F18 read/write the chroot view", protocol="bind-mount",
                         data=[workspace_source, host_files])
agent_writes_host_tmp = flow(agent, ds_host_tmp, "F18 write host /tmp", protocol="bind-mount",
                             data=[workspace_source, prompts])
agent_uses_home = flow(agent, ds_chroot_home, "read/write its per-run home and the tool folders overlaid on it",
                       protocol="bind-mount", data=[workspace_source])
agent_uses_tool_dirs = flow(agent, ds_host_tool_dirs, "read/write the host user's tool folders", protocol="bind-mount",
                            data=[host_tool_state])
agent_writes_agent_logs = flow(agent, ds_agent_logs, "write its CLI logs into the work directory",
                               protocol="bind-mount", data=[agent_output])
agent_logs_to_dockerd = flow(agent, dockerd, "F19 stdout/stderr captured by docker logs", protocol="stdio",
                             data=[agent_output])
dockerd_logs_to_cli = flow(dockerd, awf_cli, "F19 docker logs to the runner log", protocol="unix-socket",
                           data=[agent_output])
cli_reads_squid_log = flow(ds_squid_log, awf_cli, "F20 parse TCP_DENIED lines", protocol="file",
                           data=[squid_logs])
host_fw_logs = flow(host_fw, ds_klog, "F21 LOG rules to the kernel log", protocol="kernel-log",
                    data=[kernel_log])
ca_to_agent_trust = flow(ds_ca, agent_init, "F22 CA certificate into the agent trust store",
                         protocol="bind-mount", data=[ca_cert])
ca_key_to_squid = flow(ds_ca, squid, "CA key mounted read-only into Squid", protocol="bind-mount",
                       data=[ca_key])

# volumes, read-only system mounts and what is left under host /tmp
cli_inits_ssl_db = flow(awf_cli, ds_ssl_db, "create Squid's certificate database (0700)", protocol="file")
squid_uses_ssl_db = flow(squid, ds_ssl_db, "certificate generator stores per-host certificates", protocol="bind-mount",
                         data=[leaf_certs])
host_system_to_agent = flow(ds_host_system, agent, "system folders and /etc files mounted read-only at /host",
                            protocol="bind-mount", data=[host_files])
user_mounts_to_agent = flow(ds_user_mounts, agent, "--mount paths mounted into the agent container",
                            protocol="bind-mount", data=[workspace_source])
mcpgw_writes_logs = flow(ext_mcpgw, ds_mcp_logs, "the MCP gateway writes its logs under host /tmp", protocol="file",
                         data=[mcp_logs])
init_copies_preload = flow(agent_init, ds_host_tmp, "one-shot-token.so copied to host /tmp/awf-lib", protocol="file",
                           data=[preload_library])
preload_to_oneshot = flow(ds_host_tmp, oneshot, "the workload preloads the library from /tmp/awf-lib",
                          protocol="bind-mount", data=[preload_library])
cli_preserves_logs = flow(awf_cli, ds_host_tmp, "proxy and agent logs moved under host /tmp after the run",
                          protocol="file", data=[squid_logs, apiproxy_logs, agent_output])

# --- setup inside the agent container --------------------------------------------------------
init_installs_ctr_rules = flow(agent_init, ctr_fw, "setup-iptables.sh installs nat/filter rules",
                               protocol="exec", data=[rule_set])
init_starts_workload = flow(agent_init, agent, "capsh drop and chroot, then exec the agent command",
                            protocol="exec")
env_to_agent = flow(agent_env, agent, "Agent reads its environment", protocol="process-env",
                    data=[github_token, mcp_gateway_key, oidc_request, placeholder_tokens])
agent_getenv_oneshot = flow(agent, oneshot, "getenv through one-shot-token", protocol="libc",
                            data=[github_token])

# --- exposure ----------------------------------------------------------------------------------
internet_to_squid_port = flow(ext_blocked, squid, "Inbound to published 0.0.0.0:3128", protocol="HTTP",
                              port=3128, description="Squid's port is published on every host interface.")

# --- attack edges: what the design exists to block ---------------------------------------------
x_agent_direct_tcp = flow(agent, ext_blocked, "Direct TCP to an arbitrary IP", protocol="TCP",
                          data=[workspace_source, github_token], attack=True)
x_agent_direct_udp = flow(agent, ext_blocked, "UDP to an arbitrary host (incl. rogue DNS)", protocol="UDP",
                          data=[workspace_source, dns_names], attack=True)
x_agent_icmp = flow(agent, ext_blocked, "ICMP tunnel", protocol="ICMP", data=[workspace_source], attack=True)
x_agent_ipv6 = flow(agent, ext_blocked, "IPv6 egress around IPv4-only rules", protocol="IPv6",
                    data=[workspace_source], attack=True)
x_squid_blocked_domain = flow(squid, ext_blocked, "Proxy request to a non-allow-listed domain",
                              protocol="HTTPS", port=443, data=[prompts, workspace_source], attack=True)
x_agent_docker_socket = flow(agent, docker_socket, "Docker API through a reachable socket", protocol="unix-socket",
                             attack=True)
x_agent_reads_creds = flow(ds_creds, agent, "Read on-disk credential files",
                           protocol="bind-mount", data=[credential_files], attack=True)
x_agent_pid1_environ = flow(agent_init, agent, "Read PID 1 environment via /proc/1/environ",
                            protocol="procfs", data=[github_token], attack=True)
x_agent_metadata = flow(agent, cloud_metadata, "Cloud metadata request", protocol="HTTP", port=80,
                        attack=True)
x_agent_host_services = flow(agent, host_services, "Reach other host daemons through the gateway",
                             protocol="TCP", attack=True)
x_agent_edits_rules = flow(agent, ctr_fw, "Workload rewrites iptables or re-enables IPv6", protocol="netlink",
                           attack=True)
x_agent_reads_mcp_logs = flow(ds_mcp_logs, agent, "Read or rewrite MCP gateway logs through host /tmp",
                              protocol="bind-mount", data=[mcp_logs], attack=True)
x_agent_writes_host_system = flow(agent, ds_host_system, "Write host system files through the /host mounts",
                                  protocol="bind-mount", data=[host_files], attack=True)
x_agent_tampers_logs = flow(agent, ds_apiproxy_log, "Workload rewrites proxy logs under host /tmp",
                            protocol="bind-mount", data=[apiproxy_logs], attack=True)


# --- as built: the code in the firewall's source that creates each flow and element -------------------------
# Each flow the firewall's own code creates carries evidence that it exists (checked against the
# same source as the mitigations): when that code is gone at a later commit, the model is
# reported stale at the flow. Attack edges, the agent's own reads of its environment and stdio
# MCP servers (configured by the workflow, not the firewall) have none.
_TS, _NOT_TESTS = "src/**/*.ts", ["**/*.test.ts", "**/*.test-utils.ts", "**/*.test.js"]
_ENTRYPOINT, _IPTABLES = "containers/agent/entrypoint.sh", "containers/agent/setup-iptables.sh"
_CREATED_BY = [
    (runner_env_to_cli, "awf reads the job's GitHub token from the step environment", _TS,
     r"process\.env\.GITHUB_TOKEN"),
    (cli_writes_workdir, "awf writes docker-compose.yml into its work directory", _TS,
     r"path\.join\(config\.workDir, 'docker-compose\.yml'\)"),
    (cli_to_dockerd, "awf brings the containers up with docker compose", _TS, r"\['compose', 'up', '-d'\]"),
    (socket_to_dockerd, "the Docker API is reached through /var/run/docker.sock", _TS, r"/var/run/docker\.sock"),
    (cli_installs_host_rules, "awf installs the FW_WRAPPER host chain", _TS, r"FW_WRAPPER"),
    (cli_resolves_domains, "awf pre-resolves allowed domains with getent hosts", _TS,
     r"execa\.sync\('getent', \['hosts'"),
    (dockerd_pulls_images, "images are pulled from ghcr.io/github/gh-aw-firewall by default", _TS,
     r"'ghcr\.io/github/gh-aw-firewall'"),
    (cli_writes_ca, "awf generates the SSL-bump CA with openssl req", _TS, r"execa\('openssl', \[\s*'req'"),
    (cli_sets_agent_env, "awf sets the agent's proxy environment", _TS,
     r"HTTPS_PROXY: `http://\$\{networkConfig\.squidIp\}:\$\{SQUID_PORT\}`"),
    (agent_to_squid, "the agent's HTTPS_PROXY points at Squid", _TS,
     r"HTTPS_PROXY: `http://\$\{networkConfig\.squidIp\}:\$\{SQUID_PORT\}`"),
    (agent_dnat_to_squid, "direct port 443 is DNATed to Squid", _IPTABLES,
     r'--dport 443 -j DNAT --to-destination "\$\{SQUID_IP\}:\$\{SQUID_PORT\}"'),
    (agent_dns, "DNS to the configured resolvers is accepted", _IPTABLES, r"--dport 53 -j ACCEPT"),
    (agent_dns_embedded, "the agent's lookups go to Docker's embedded DNS at 127.0.0.11", _TS, r"'127\.0\.0\.11'"),
    (docker_dns_forward, "the compose file sets the resolvers Docker's DNS forwards to", _TS, r"^\s+dns: "),
    (agent_to_apiproxy, "the agent's LLM clients are pointed at the api-proxy", _TS, r"ANTHROPIC_BASE_URL"),
    (apiproxy_to_squid, "the api-proxy sends its upstream calls through HTTPS_PROXY", "containers/api-proxy/*.js",
     r"HTTPS_PROXY"),
    (squid_to_llm, "the api-proxy targets the providers' API hosts", "containers/api-proxy/*.js",
     r"api\.anthropic\.com"),
    (squid_to_allowed, "squid.conf allows the allow-listed domains", _TS, r"acl allowed_domains dstdomain"),
    (squid_dns, "squid.conf names its DNS resolvers", _TS, r"dns_nameservers"),
    (squid_writes_log, "squid.conf writes an access log", _TS, r"access_log "),
    (apiproxy_writes_log, "the api-proxy log folder is mounted read-write", _TS, r":/var/log/api-proxy:rw"),
    (agent_to_mcpgw, "host.docker.internal resolves to the host gateway", _TS,
     r"host\.docker\.internal.{0,8}host-gateway"),
    (agent_uses_chroot, "the entrypoint runs the agent in chroot /host", _ENTRYPOINT, r"chroot /host"),
    (agent_writes_host_tmp, "host /tmp is mounted read-write", _TS, r"'/tmp:/tmp:rw'"),
    (agent_logs_to_dockerd, "awf follows the agent's output with docker logs", _TS,
     r"execa\('docker', (\['logs', '-f'|logArgs)"),
    (dockerd_logs_to_cli, "awf follows the agent's output with docker logs", _TS,
     r"execa\('docker', (\['logs', '-f'|logArgs)"),
    (cli_reads_squid_log, "awf parses TCP_DENIED lines of Squid's access log", _TS, r"TCP_DENIED:"),
    (host_fw_logs, "the host chain logs with --log-prefix", _TS, r"'--log-prefix'"),
    (ca_to_agent_trust, "the entrypoint installs the CA into the trust store", _ENTRYPOINT, r"update-ca-certificates"),
    (ca_key_to_squid, "the CA key is mounted read-only into Squid", _TS,
     r"caFiles\.keyPath\}:\$\{sslConfig\.caFiles\.keyPath\}:ro"),
    (init_installs_ctr_rules, "the entrypoint runs setup-iptables.sh", _ENTRYPOINT, r"setup-iptables\.sh"),
    (init_starts_workload, "the entrypoint drops capabilities with capsh", _ENTRYPOINT, r"capsh"),
    (agent_getenv_oneshot, "the entrypoint preloads one-shot-token", _ENTRYPOINT, r"LD_PRELOAD"),
    (internet_to_squid_port, "Squid's port is published on the host", _TS,
     r"ports: \[`\$\{SQUID_PORT\}:\$\{SQUID_PORT\}`\]"),
    (workdir_conf_to_squid, "squid.conf is bind-mounted from the work directory", _TS,
     r"\$\{config\.workDir\}/squid\.conf:/etc/squid/squid\.conf:ro"),
    (workdir_seccomp_to_dockerd, "the agent runs with the work directory's seccomp profile", _TS,
     r"seccomp=\$\{config\.workDir\}/seccomp-profile\.json"),
    (cli_writes_chroot_hosts, "awf builds the chroot's /etc/hosts from the host's", _TS,
     r"readFileSync\('/etc/hosts'"),
    (dockerd_starts_agent, "the agent container is named awf-agent", _TS, r"'awf-agent'"),
    (dockerd_starts_squid, "the Squid container is named awf-squid", _TS, r"'awf-squid'"),
    (dockerd_starts_apiproxy, "the api-proxy container is named awf-api-proxy", _TS, r"'awf-api-proxy'"),
    (cli_sets_apiproxy_env, "awf passes the provider keys to the api-proxy in its environment", _TS,
     r"(OPENAI_API_KEY|\[OPENAI_ENV\.KEY\]): config\.openaiApiKey"),
    (agent_uses_tool_dirs, "the host user's tool folders are mounted read-write into the chroot home", _TS,
     r"\$\{effectiveHome\}/(\.cargo|\$\{toolPath\}):/host\$\{effectiveHome\}/(\.cargo|\$\{toolPath\}):rw"),
    (agent_writes_agent_logs, "the agent's log folder is mounted read-write at ~/.copilot/logs", _TS,
     r":(/host)?\$\{effectiveHome\}/\.copilot/logs:rw"),
    (agent_uses_home, "an empty per-run folder is mounted as the agent's home", _TS,
     r"\$\{emptyHomeDir\}:/host\$\{effectiveHome\}:rw"),
    (dockerd_pulls_images, "a custom --agent-image is pulled as the base of a local build", _TS,
     r"buildArgs\.BASE_IMAGE = agentImage"),
    (cli_inits_ssl_db, "awf creates the certificate database under its work directory", _TS,
     r"path\.join\(workDir, 'ssl_db'\)"),
    (squid_uses_ssl_db, "the certificate database is mounted read-write into Squid", _TS, r":/var/spool/squid_ssl_db:rw"),
    (host_system_to_agent, "system folders are mounted read-only at /host", _TS,
     r"'/usr:/host/usr:ro'|\$\{dir\}:/host\$\{dir\}:ro"),
    (host_system_to_agent, "/etc/passwd is mounted read-only at /host", _TS, r"/etc/passwd:/host/etc/passwd:ro"),
    (user_mounts_to_agent, "the --mount paths are added to the agent's volumes", _TS,
     r"config\.volumeMounts\.forEach|buildCustomVolumeMounts\(config\.volumeMounts"),
    (mcpgw_writes_logs, "awf creates the gateway's log folder in host /tmp", _TS,
     r"const mcpLogsDir = '/tmp/gh-aw/mcp-logs'"),
    (init_copies_preload, "the entrypoint copies one-shot-token.so into host /tmp/awf-lib", _ENTRYPOINT,
     r"cp /usr/local/lib/one-shot-token\.so /host/tmp/awf-lib/one-shot-token\.so"),
    (preload_to_oneshot, "the workload's LD_PRELOAD names the copy in /tmp/awf-lib", _ENTRYPOINT,
     r'ONE_SHOT_TOKEN_LIB="/tmp/awf-lib/one-shot-token\.so"'),
    (cli_preserves_logs, "awf moves the Squid logs under host /tmp after the run", _TS,
     r"squid-logs-\$\{timestamp\}|destinationBaseName: 'squid-logs'"),
    (squid_writes_log, "squid.conf writes a cache log", _TS, r"cache_log /var/log/squid/cache\.log"),
    (ds_squid_log, "the Squid log folder is mounted read-write into Squid", _TS, r":/var/log/squid:rw"),
    (ds_mcp_logs, "a tmpfs hides the gateway's log folder from the agent", _TS,
     r"'/host/tmp/gh-aw/mcp-logs:rw,noexec,nosuid,size=1m'"),
]
# What the model leaves out shows up as staleness too: the firewall defines no containers beyond the three the
# model has (names or, in later layouts, the constants that hold them; type declarations aside).
_OTHER_CONTAINERS = (r"container_name\s*[:=](?!\s*['\"]awf-(squid|agent|api-proxy)['\"]|\s*SQUID_CONTAINER_NAME\b"
                     r"|\s*AGENT_CONTAINER_NAME\b|\s*API_PROXY_CONTAINER_NAME\b|\s*string\b)\s*[^\s,;]+")
dockerd.evidence = [{"kind": "regex", "proves": "the firewall starts no containers beyond Squid, the agent and the "
                     "api-proxy", "path": _TS, "pattern": _OTHER_CONTAINERS, "exclude": _NOT_TESTS, "expect": "no_match"}]
for _obj, _proves, _path, _pattern in _CREATED_BY:
    _item = {"kind": "regex", "proves": _proves, "path": _path, "pattern": _pattern, "exclude": _NOT_TESTS}
    _obj.evidence = [*(getattr(_obj, "evidence", None) or []), _item]
