"""State documents exactly as spinekit serialized them, for tests of data adoption.

Adapters' adoption tests write these with plain SQL or Redis commands in spinekit's layouts and
read them back through Spine.
"""

from __future__ import annotations

__all__ = ["PAUSED_RUN"]

PAUSED_RUN = (
    '{"version":1,"session_id":"paused","tenant_id":null,"messages":['
    '{"role":"user","content":"delete it","parts":null,"tool_calls":[],"tool_call_id":null,'
    '"name":null},{"role":"assistant","content":null,"parts":null,"tool_calls":'
    '[{"id":"c1","name":"rm","arguments":{"path":"/tmp/x"}}],"tool_call_id":null,"name":null}],'
    '"step":1,"usage":{"input_tokens":3,"output_tokens":4,"cost_usd":0.0},'
    '"status":"interrupted","depth":0,"pending":{"call":{"id":"c1","name":"rm",'
    '"arguments":{"path":"/tmp/x"}},"mode":"approve","payload":null},"scratch":{}}'
)
"""A run paused for approval: an assistant turn with `content: null` and a pending tool call."""
