"""Notifications: channels, the outbox, transports and the guide's message templates."""
