"""Moderation: the queue of held and flagged posts, its policies and rules, actions and audit log.

``moderation.gate.ModerationGate`` is the forum's gatekeeper (wired in ``forum.app``);
``moderation.web`` and ``moderation.pages`` are its API and its pages.
"""
