"""Entry point of the firewall model: the TM and the modules that populate it."""

from pytm import TM

tm = TM(
    "Agentic Workflow Firewall (gh-aw-firewall @ b8596445)",
    description="An AI agent in a Docker container whose egress is forced through a Squid proxy "
    "with a domain allow-list: host and container iptables, DNS restricted to chosen resolvers, "
    "dropped capabilities, seccomp, masked credential files and Docker socket.",
    isOrdered=False,
)

from . import components, flows, zones  # noqa: E402,F401  (registering elements is the point)

from threatgraph.declare import Declarations, always_through, crossing_flows, never_reaches  # noqa: E402

from .components import (  # noqa: E402
    agent, agent_env, apiproxy, docker_socket, ds_ca, ds_creds, ds_workdir, ext_allowed, ext_blocked, ext_dns,
    ext_llm, mcp_stdio, squid,
)
from .flows import agent_dns, docker_dns_forward, internet_to_squid_port, squid_dns  # noqa: E402
from .zones import tb_vm  # noqa: E402

# What must hold whatever else changes: checked on every `threatgraph check`, broken ones fail
# the gate with a counterexample path. Attack edges count as paths unless a full-strength
# mitigation blocks them, so a drifted control breaks these invariants.
analysis = Declarations(
    invariants=[
        always_through([agent, mcp_stdio, apiproxy], [ext_allowed, ext_llm, ext_blocked], via=[squid],
                       name="egress from the agent side goes through Squid",
                       description="DNS to the configured resolvers is the one designed exception (T01)."),
        never_reaches(agent, [docker_socket], name="the agent never reaches the Docker socket"),
        never_reaches(agent, [ds_creds, ds_workdir, ds_ca], name="the agent never reads host credential files, "
                      "the compose secrets or the SSL-bump CA key"),
        crossing_flows(tb_vm, encrypted=True, exceptions=[agent_dns, docker_dns_forward, squid_dns,
                                                          internet_to_squid_port],
                       name="flows crossing the runner VM boundary are encrypted",
                       description="Exceptions: cleartext DNS (T01, SEED-SQUID-DNS-HARDCODED) and the published "
                       "Squid port (T25)."),
    ],
    entry_points=[agent],
    targets=[agent_env, ds_creds, ds_workdir, docker_socket, ext_blocked, ext_dns],
)
