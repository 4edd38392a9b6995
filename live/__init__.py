"""Live sessions: the programme of forums and training sessions, their schedule-driven live
threads, join links, calendar feeds, archive and report.

Domain modules here; ``live.web`` holds the pages and the API, composed in ``forum.app``.
"""
