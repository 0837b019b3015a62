"""Instructor tooling: the checker of executed student submissions (``checker``)."""
