"""The Agentic Workflow Firewall (github/gh-aw-firewall) at b8596445, the iptables design.

Load it with `threatgraph` (model = "model/firewall.py"); the modules split it by concern:
zones (trust boundaries), components (elements and data assets), flows (data flows and the
attack edges the design exists to block).
"""
