"""The web side: the blueprints a requester, an officer and an API client reach, and what
only they use (forms, sign-in, error replies, security headers, list filters, figures).
"""
