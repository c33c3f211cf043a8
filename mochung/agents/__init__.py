"""The AI layer: a main agent that calls the context, map and output agents as tools.

Entry point: ``build_runtime(settings)`` then ``runtime.turn(TurnInput(...)).events()``
(see :mod:`mochung.agents.runtime`). Importing this package loads LangChain: the web
process imports it lazily, the worker at start-up.
"""

from mochung.agents.runtime import AgentEvent, AgentRuntime, AgentTurn, TurnInput, build_runtime

__all__ = ["AgentEvent", "AgentRuntime", "AgentTurn", "TurnInput", "build_runtime"]
