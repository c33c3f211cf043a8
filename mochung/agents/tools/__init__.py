"""The tools of the sub-agents, reading and writing the per-turn :class:`TurnContext`."""
