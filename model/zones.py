"""Trust boundaries, outermost first. Side boundaries (host filesystem views, agent-writable
host paths, the api-proxy credential holder) sit beside the nesting chain."""

from pytm import Boundary

tb_vm = Boundary(
    "Runner VM (TB-VM)",
    description="Single-tenant GitHub Actions runner VM; the docs treat it as the last line "
    "of defence against a container escape. Holds the host, root-equivalent Docker and step secrets.",
)
tb_docker = Boundary(
    "Containers (TB-DOCKER)",
    inBoundary=tb_vm,
    description="Namespaces and cgroups separating the root host from AWF containers; crossed "
    "only through the Docker API and bind mounts.",
)
tb_fwd = Boundary(
    "awf-net bridge, FORWARD filter (TB-FWD)",
    inBoundary=tb_docker,
    description="172.30.0.0/24 bridge fw-bridge. The host FW_WRAPPER chain filters only packets "
    "entering from the bridge and forwarded; traffic to host-owned IPs goes through INPUT instead.",
)
tb_egress = Boundary(
    "Squid container (TB-EGRESS)",
    inBoundary=tb_fwd,
    description="The only container with unrestricted egress: the host chain accepts the Squid "
    "IP wholesale, so Squid's ACLs are the egress policy from here on.",
)
tb_cred = Boundary(
    "api-proxy container (TB-CRED)",
    inBoundary=tb_fwd,
    description="Optional sidecar that holds the LLM provider keys; the agent gets placeholders. "
    "Plain HTTP with no client authentication.",
)
tb_agentnet = Boundary(
    "Agent network namespace (TB-AGENTNET)",
    inBoundary=tb_fwd,
    description="The agent container: nat and filter OUTPUT rules installed during setup while "
    "NET_ADMIN is held.",
)
tb_priv = Boundary(
    "Agent workload after privilege drop (TB-PRIV)",
    inBoundary=tb_agentnet,
    description="Untrusted, prompt-injectable code: runs chrooted at /host as the host UID (never 0) "
    "after capsh drops NET_ADMIN, SYS_CHROOT and SYS_ADMIN from the bounding set.",
)
tb_fs = Boundary(
    "Host filesystem seen by the agent (TB-FS)",
    inBoundary=tb_vm,
    description="Selective bind mounts: system folders read-only; workspace, /tmp and tool folders "
    "under $HOME read-write; credential files masked with /dev/null.",
)
tb_artifact = Boundary(
    "Agent-writable host paths (TB-ARTIFACT)",
    inBoundary=tb_vm,
    description="Host paths the agent can write and host-side steps later trust (host /tmp, "
    "logs under it, gh-aw safe outputs and prompts): an integrity boundary.",
)
