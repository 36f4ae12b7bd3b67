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
