"""Small programs the fault tests start as processes of their own, to break them by pid."""
