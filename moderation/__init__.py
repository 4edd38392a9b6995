"""Moderation: the queue of held and flagged posts, its policies and rules, actions and audit log.

``moderation.gate.ModerationGate`` is the forum's gatekeeper (wired in ``forum.app``);
the domain modules live here, their pages and API in ``moderation.web``.
"""
